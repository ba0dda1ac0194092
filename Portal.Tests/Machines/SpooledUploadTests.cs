using System.Security.Cryptography;
using Portal.Engine;
using Portal.Engine.Operations;
using Portal.Engine.Storage;

namespace Portal.Tests.Machines;

/// <summary>
/// Issue 21: the agent holds the packs it uploads in memory only up to a budget (three packs); beyond it a pack is built
/// into an owner-only temporary file of the agent's state folder and uploaded from it through the real store endpoint; a transient failure
/// mid-upload sends the file again (a stream could not be resent), and the file is gone once the pack is stored.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SpooledUploadTests : IAsyncLifetime
{
    private readonly AccessHost host = new();

    public Task InitializeAsync() => host.InitializeAsync();

    public Task DisposeAsync() => host.DisposeAsync();

    [Fact]
    public async Task A_pack_is_uploaded_from_an_owner_only_file_sent_again_after_a_broken_upload_and_the_file_removed()
    {
        var (faults, spool) = await BackUpThroughABrokenUploadAsync(memoryBudget: 0);

        // While it was uploaded, the pack was a file (the next pack may be building beside it), readable by the agent's
        // user only, in a folder only it can enter.
        Assert.NotEmpty(faults.SpooledModes);
        Assert.All(faults.SpooledModes, mode => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(spool));
        Assert.Empty(Directory.GetFiles(spool));

        // What a killed agent left is removed at its next start.
        await File.WriteAllBytesAsync(Path.Combine(spool, "spool-" + Guid.NewGuid().ToString("N")), new byte[1024]);
        Assert.Equal(1, SpoolingStore.Clean(spool));
        Assert.Empty(Directory.GetFiles(spool));
    }

    [Fact]
    public async Task Packs_that_fit_the_memory_budget_are_sent_again_from_memory_and_never_touch_the_disk()
    {
        var (faults, spool) = await BackUpThroughABrokenUploadAsync(memoryBudget: Portal.Agent.Connection.PortalRepositories.SpoolMemory);

        Assert.Empty(faults.SpooledModes);
        Assert.Empty(Directory.GetFiles(spool));
    }

    [Fact]
    public async Task A_pack_that_outgrows_the_memory_budget_moves_to_a_file_with_what_it_held()
    {
        // 1 MiB of budget against a 3 MiB pack: its first megabyte is held, then moved to the file with the rest.
        var (faults, spool) = await BackUpThroughABrokenUploadAsync(memoryBudget: 1024 * 1024);

        Assert.NotEmpty(faults.SpooledModes);
        Assert.All(faults.SpooledModes, mode => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode));
        Assert.Empty(Directory.GetFiles(spool));
    }

    /// <summary>
    /// Backs up 3 MiB of random bytes (one pack) through the real store endpoint, whose first upload of the pack breaks
    /// off after 64 KiB; asserts that the same pack was sent again, whole, and that the point restores byte-identical
    /// and checks with its data read.
    /// </summary>
    private async Task<(BreakFirstPackUpload Faults, string Spool)> BackUpThroughABrokenUploadAsync(long memoryBudget)
    {
        var vault = await host.CreateVaultAsync("spooled");
        var machine = await host.RegisterAsync(vault, "files-03");
        var source = Directory.CreateDirectory(Path.Combine(host.Root, "source")).FullName;
        var big = RandomNumberGenerator.GetBytes(3 * 1024 * 1024);
        await File.WriteAllBytesAsync(Path.Combine(source, "big.bin"), big);
        var spool = Path.Combine(host.Root, "agent-state", "uploads");
        var faults = new BreakFirstPackUpload(spool) { InnerHandler = host.Server.CreateHandler() };
        using var http = new HttpClient(faults);
        var endpoint = new HttpObjectStore(http, host.BaseAddress, () => machine.Authorization(host.Clock.GetUtcNow()));
        var store = new SpoolingStore(new RetryingStore(endpoint, new RetryPolicy(3, TimeSpan.FromMilliseconds(10))), spool, memoryBudget);

        string snapshot;
        using (var engine = await BackupEngine.InitAsync(store, AccessHost.Passphrase, AccessHost.EngineOptions))
            snapshot = (await engine.BackupAsync(new BackupRequest(source))).SnapshotId;

        // The first upload of the pack broke off after 64 KiB; the same pack was sent again, whole.
        Assert.NotNull(faults.Broken);
        Assert.Equal(2, faults.PackPuts.Count(p => p == faults.Broken));

        var target = Path.Combine(host.Root, "restored");
        using (var engine = await BackupEngine.OpenAsync(host.Store(machine), AccessHost.Passphrase, AccessHost.EngineOptions))
        {
            Assert.Empty((await engine.RestoreAsync(new RestoreRequest(snapshot, target))).Errors);
            var check = await engine.CheckAsync(readData: true);
            Assert.True(check.IsHealthy, string.Join("; ", check.Problems));
        }

        Assert.Equal(big, await File.ReadAllBytesAsync(Path.Combine(target, "big.bin")));
        return (faults, spool);
    }

    /// <summary>The network between the agent and the portal: the first upload of a pack breaks off part way (a reset connection).</summary>
    private sealed class BreakFirstPackUpload(string spool) : DelegatingHandler
    {
        public string? Broken { get; private set; }

        public List<string> PackPuts { get; } = [];

        public List<UnixFileMode> SpooledModes { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = request.RequestUri!.AbsolutePath;
            if (request.Method != HttpMethod.Put || !path.Contains("/data/", StringComparison.Ordinal))
                return await base.SendAsync(request, cancellationToken);
            lock (PackPuts)
                PackPuts.Add(path);
            if (Broken is not null)
                return await base.SendAsync(request, cancellationToken);
            Broken = path;
            SpooledModes.AddRange(Directory.GetFiles(spool).Select(File.GetUnixFileMode));
            await using var body = await request.Content!.ReadAsStreamAsync(cancellationToken);
            await body.ReadExactlyAsync(new byte[64 * 1024], cancellationToken);
            throw new HttpRequestException("Connection reset by peer (the test's network)");
        }
    }
}
