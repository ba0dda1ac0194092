using System.Diagnostics;
using Portal.Engine;
using Portal.Engine.Operations;
using Portal.Engine.Replication;
using Portal.Engine.Storage;
using Portal.Tests.Engine;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Cli;

/// <summary>
/// The CLI opens a portal vault through the portal's own region configuration (--config --vault --region), as an
/// operator would during a regional outage: the real CLI process, real replica folders, no portal, no database.
/// </summary>
public sealed class CliRegionTests : IDisposable
{
    private static readonly Guid VaultId = Guid.Parse("3f2504e0-4f89-11d3-9a0c-0305e82c3301");
    private readonly EngineTestKit _kit = new();
    private readonly string _config;

    public CliRegionTests()
    {
        _config = Path.Combine(_kit.Root, "appsettings.json");
        File.WriteAllText(_config, """
            {
              // comments are allowed, as in the portal's appsettings
              "Storage": { "Root": "regions", "Regions": [
                { "Name": "east", "PairedRegion": "west", "Replicas": [ { "Path": "east/1" }, { "Path": "east/2" }, { "Path": "east/3" } ] },
                { "Name": "west", "PairedRegion": "east", "Replicas": [ { "Kind": "LocalDisk", "Path": "west/1" }, { "Path": "west/2" }, { "Path": "west/3" } ] }
              ] }
            }
            """);
    }

    public void Dispose() => _kit.Dispose();

    private IObjectStore Region(string name) =>
        new PrefixedStore(new ReplicatedStore([.. Enumerable.Range(1, 3).Select(i => (IObjectStore)new LocalDirectoryStore(Path.Combine(_kit.Root, "regions", name, i.ToString())))]),
            $"vaults/{VaultId:N}");

    private static string CliDll()
    {
        var bin = Path.GetDirectoryName(typeof(CliRegionTests).Assembly.Location)!; // .../Portal.Tests/bin/<Configuration>/net10.0
        var configuration = Path.GetFileName(Path.GetDirectoryName(bin))!;
        return Path.Combine(Checkout.Root(), "Portal.Cli", "bin", configuration, "net10.0", "Portal.Cli.dll");
    }

    private static async Task<(int Code, string Out, string Err)> RunCliAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(CliDll());
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["PORTAL_PASSPHRASE"] = EngineTestKit.Passphrase;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task With_the_primary_region_lost_the_secondary_copy_restores_byte_identical()
    {
        _kit.WriteMixedTree();
        using (var engine = await BackupEngine.InitAsync(Region("east"), EngineTestKit.Passphrase, EngineTestKit.Options))
            await engine.BackupAsync(new BackupRequest(_kit.Source));
        await new RegionReplicator(Region("east"), Region("west")).ReplicateAsync();

        var listed = await RunCliAsync("snapshots", "--config", _config, "--vault", VaultId.ToString(), "--region", "secondary", "--vault-region", "east", "--json");
        Assert.True(listed.Code == 0, listed.Err);
        Assert.Contains("\"status\"", listed.Out);

        // A newer point not replicated yet: the listing marks where each point exists.
        _kit.Write("later.txt", "written after the replication pass");
        using (var engine = await BackupEngine.OpenAsync(Region("east"), EngineTestKit.Passphrase, EngineTestKit.Options))
            await engine.BackupAsync(new BackupRequest(_kit.Source));
        var marked = await RunCliAsync("snapshots", "--config", _config, "--vault", VaultId.ToString(), "--vault-region", "east");
        Assert.True(marked.Code == 0, marked.Err);
        var lines = marked.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines, l => l.EndsWith("in: east,west", StringComparison.Ordinal));
        Assert.Single(lines, l => l.EndsWith("in: east", StringComparison.Ordinal));
        File.Delete(Path.Combine(_kit.Source, "later.txt"));

        Directory.Delete(Path.Combine(_kit.Root, "regions", "east"), recursive: true); // the primary region is gone
        var target = _kit.NewTarget();
        var restored = await RunCliAsync("restore", "--config", _config, "--vault", VaultId.ToString(), "--region", "secondary",
            "--snapshot", "latest", "--target", target);
        Assert.True(restored.Code == 0, restored.Err);
        Assert.Contains("only west holds", restored.Err);
        EngineTestKit.AssertSameTree(_kit.Source, target);
    }

    [Theory]
    [InlineData("--vault", "my-vault", "vault's ID")]
    [InlineData("--region", "mars", "region 'mars' is not configured")]
    [InlineData("--config", "missing.json", "cannot read the configuration file")]
    public async Task Bad_region_arguments_give_a_clear_message_and_no_stack_trace(string option, string value, string expected)
    {
        var args = new Dictionary<string, string> { ["--config"] = _config, ["--vault"] = VaultId.ToString(), ["--region"] = "secondary" };
        args[option] = value;
        var r = await RunCliAsync(["snapshots", .. args.SelectMany(kv => new[] { kv.Key, kv.Value })]);
        Assert.Equal(2, r.Code);
        Assert.Contains(expected, r.Err);
        Assert.DoesNotContain("   at ", r.Err);
    }

    [Fact]
    public async Task A_flag_given_a_value_is_refused_rather_than_read_as_on()
    {
        var r = await RunCliAsync("snapshots", "--config", _config, "--vault", VaultId.ToString(), "--json=false");
        Assert.Equal(2, r.Code);
        Assert.Contains("option --json takes no value", r.Err);
        Assert.Empty(r.Out);
    }

    [Fact]
    public async Task Replication_killed_mid_pass_resumes_where_it_stopped_and_the_secondary_stays_consistent()
    {
        // Twelve recovery points, each adding a 3 MB file: a pass copies a few dozen objects of megabytes.
        using (var engine = await BackupEngine.InitAsync(Region("east"), EngineTestKit.Passphrase, EngineTestKit.Options))
            for (var i = 0; i < 12; i++)
            {
                _kit.Write($"part-{i:00}.bin", EngineTestKit.Random(3_000_000, i));
                await engine.BackupAsync(new BackupRequest(_kit.Source));
            }
        var total = await NamesAsync(Region("east"));

        // The real CLI process, killed (SIGKILL, no chance to clean up) right after it reports its fourth object.
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { CliDll(), "replicate", "--config", _config, "--vault", VaultId.ToString(), "--vault-region", "east", "--progress-lines" })
            start.ArgumentList.Add(arg);
        using (var process = Process.Start(start)!)
        {
            string? line;
            while ((line = await process.StandardOutput.ReadLineAsync()) is not null && !line.StartsWith("copied 4/", StringComparison.Ordinal)) { }
            Assert.Equal($"copied 4/{total.Count}", line);
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        var copied = await NamesAsync(Region("west"));
        Assert.True(copied.Count < total.Count, $"killed mid-pass: {copied.Count} of {total.Count} objects in west");
        // Whatever the kill interrupted, the secondary is a consistent repository: recovery points only with all their data.
        using (var west = await BackupEngine.OpenAsync(Region("west"), EngineTestKit.Passphrase, EngineTestKit.Options))
            Assert.True((await west.CheckAsync()).IsHealthy);

        // Started again, it copies exactly what is missing (nothing twice), and the secondary verifies clean, data included.
        var resumed = await RunCliAsync("replicate", "--config", _config, "--vault", VaultId.ToString(), "--vault-region", "east", "--json");
        Assert.True(resumed.Code == 0, resumed.Err);
        Assert.Contains($"\"objectsCopied\": {total.Count - copied.Count},", resumed.Out);
        Assert.Equal(total, await NamesAsync(Region("west")));
        var check = await RunCliAsync("check", "--read-data", "--config", _config, "--vault", VaultId.ToString(), "--region", "west");
        Assert.True(check.Code == 0, check.Out + check.Err);
        var target = _kit.NewTarget();
        Assert.Equal(0, (await RunCliAsync("restore", "--config", _config, "--vault", VaultId.ToString(), "--region", "west", "--snapshot", "latest", "--target", target)).Code);
        EngineTestKit.AssertSameTree(_kit.Source, target);
    }

    private static async Task<SortedSet<string>> NamesAsync(IObjectStore store)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        await foreach (var o in store.ListAsync(""))
            names.Add(o.Name);
        return names;
    }
}
