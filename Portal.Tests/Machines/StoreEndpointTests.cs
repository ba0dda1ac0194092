using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Portal.Engine;
using Portal.Engine.Agents;
using Portal.Engine.Operations;
using Portal.Engine.Storage;

namespace Portal.Tests.Machines;

/// <summary>The store endpoint as the engine uses it: a machine's whole backup and restore through <see cref="HttpObjectStore"/>.</summary>
public sealed class StoreEndpointTests : IAsyncLifetime
{
    private readonly AccessHost host = new();

    public Task InitializeAsync() => host.InitializeAsync();

    public Task DisposeAsync() => host.DisposeAsync();

    [Fact]
    public async Task The_engine_inits_backs_up_and_restores_a_machine_through_the_endpoint()
    {
        var vault = await host.CreateVaultAsync("conformance");
        var machine = await host.RegisterAsync(vault, "files-01");
        var source = Path.Combine(host.Root, "source");
        Directory.CreateDirectory(Path.Combine(source, "docs"));
        var big = RandomNumberGenerator.GetBytes(3 * 1024 * 1024);
        await File.WriteAllBytesAsync(Path.Combine(source, "docs", "big.bin"), big);
        await File.WriteAllTextAsync(Path.Combine(source, "readme.txt"), "hello from files-01");

        string snapshot;
        using (var engine = await BackupEngine.InitAsync(host.Store(machine), AccessHost.Passphrase, AccessHost.EngineOptions))
        {
            var result = await engine.BackupAsync(new BackupRequest(source));
            snapshot = result.SnapshotId;
        }

        // The backup took its lock and removed it at the end (DELETE of locks/ is allowed).
        Assert.Empty(await host.Store(machine).ListAsync("locks/").ToListAsync());
        // The objects are in the machine's own prefix of the vault, in the region's folders.
        Assert.Contains(Directory.EnumerateFiles(host.Regions, "*", SearchOption.AllDirectories),
            f => f.Replace('\\', '/').Contains($"vaults/{vault.Id:N}/machines/{machine.Id:N}/snapshots/{snapshot}", StringComparison.Ordinal));

        var target = Path.Combine(host.Root, "restored");
        using (var engine = await BackupEngine.OpenAsync(host.Store(machine), AccessHost.Passphrase, AccessHost.EngineOptions))
        {
            var restored = await engine.RestoreAsync(new RestoreRequest(snapshot, target));
            Assert.Empty(restored.Errors);
            var check = await engine.CheckAsync(readData: true);
            Assert.True(check.IsHealthy, string.Join("; ", check.Problems));
        }

        Assert.Equal(big, await File.ReadAllBytesAsync(Path.Combine(target, "docs", "big.bin")));
        Assert.Equal("hello from files-01", await File.ReadAllTextAsync(Path.Combine(target, "readme.txt")));
    }

    [Fact]
    public async Task Ranges_heads_and_listings_answer_as_a_store_does()
    {
        var vault = await host.CreateVaultAsync("ranges");
        var machine = await host.RegisterAsync(vault, "files-02");
        var store = host.Store(machine);
        var body = RandomNumberGenerator.GetBytes(1000);
        var name = "keys/" + Convert.ToHexStringLower(SHA256.HashData(body));
        await store.PutAsync(name, body);
        await store.PutAsync(name, body); // identical again: fine

        Assert.Equal(body[100..200], await store.GetRangeAsync(name, 100, 100));
        var info = await store.StatAsync(name);
        Assert.Equal(1000, info!.Length);
        Assert.InRange(info.LastModified, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1)); // the object's write time, from storage
        Assert.Null(await store.StatAsync("keys/" + new string('a', 64)));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.GetAsync("keys/" + new string('a', 64)));
        await Assert.ThrowsAsync<ObjectTruncatedException>(() => store.GetRangeAsync(name, 990, 20));
        Assert.Equal([name], (await store.ListAsync("keys/").ToListAsync()).Select(o => o.Name));
        Assert.Empty(await store.ListAsync("data/").ToListAsync());

        using var client = host.Client();
        using var past = new HttpRequestMessage(HttpMethod.Get, new Uri(host.BaseAddress, $"{AgentRoutes.Store}/{name}"));
        past.Headers.TryAddWithoutValidation("Authorization", machine.Authorization(host.Clock.GetUtcNow()));
        past.Headers.Range = new RangeHeaderValue(1000, 1010);
        using var response = await client.SendAsync(past);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
        Assert.Equal("bytes */1000", response.Content.Headers.ContentRange!.ToString());
    }

    [Fact]
    public async Task An_object_over_the_size_limit_is_refused_with_the_limit()
    {
        var vault = await host.CreateVaultAsync("limits");
        var machine = await host.RegisterAsync(vault, "files-03");
        using var client = host.Client();
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(host.BaseAddress, $"{AgentRoutes.Store}/data/00/{new string('0', 64)}"));
        request.Headers.TryAddWithoutValidation("Authorization", machine.Authorization(host.Clock.GetUtcNow()));
        request.Content = new ByteArrayContent([]);
        request.Content.Headers.ContentLength = 129L * 1024 * 1024;

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("larger than 128 MiB", (await response.Content.ReadFromJsonAsync<AgentProblem>())!.Error);
    }

    [Fact]
    public async Task A_pack_streamed_in_odd_pieces_without_a_length_is_stored_byte_for_byte()
    {
        var vault = await host.CreateVaultAsync("streamed");
        var machine = await host.RegisterAsync(vault, "files-04");
        var pack = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 12_345); // crosses the portal's 256 KiB slices unevenly
        var hash = Convert.ToHexStringLower(SHA256.HashData(pack));
        using var client = host.Client();
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(host.BaseAddress, $"{AgentRoutes.Store}/data/{hash[..2]}/{hash}"));
        request.Headers.TryAddWithoutValidation("Authorization", machine.Authorization(host.Clock.GetUtcNow()));
        request.Content = new PiecesContent(pack, 7_001, breakAfter: null);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(pack, await host.Store(machine).GetAsync($"data/{hash[..2]}/{hash}"));
    }

    [Fact]
    public async Task An_upload_that_breaks_off_leaves_nothing_in_the_region()
    {
        var vault = await host.CreateVaultAsync("broken");
        var machine = await host.RegisterAsync(vault, "files-05");
        var pack = RandomNumberGenerator.GetBytes(2 * 1024 * 1024);
        var hash = Convert.ToHexStringLower(SHA256.HashData(pack));
        var name = $"data/{hash[..2]}/{hash}";
        using var client = host.Client();
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(host.BaseAddress, $"{AgentRoutes.Store}/{name}"));
        request.Headers.TryAddWithoutValidation("Authorization", machine.Authorization(host.Clock.GetUtcNow()));
        var released = new TaskCompletionSource();
        request.Content = new PiecesContent(pack, 64 * 1024, breakAfter: 1024 * 1024, released.Task); // half the pack, then nothing

        using var abandon = new CancellationTokenSource();
        var sending = client.SendAsync(request, abandon.Token);
        // Half the pack is on its way: the portal is writing it into a staged ('#tmp-') file, invisible to the store.
        await Until(() => Staged().Length > 0, "the portal to stage the upload");
        Assert.Null(await host.Store(machine).StatAsync(name));
        await abandon.CancelAsync(); // the agent's connection breaks here

        await Until(() => Staged().Length == 0, "the portal to discard the staged upload");
        Assert.Null(await host.Store(machine).StatAsync(name));
        Assert.DoesNotContain(host.RegionTree().Keys, k => k.Contains(hash, StringComparison.Ordinal));
        released.SetResult(); // the client's side of the broken request ends too
        try
        {
            using var response = await sending.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException or TimeoutException)
        {
        }

        string[] Staged() => Directory.Exists(host.Regions)
            ? Directory.GetFiles(host.Regions, "#tmp-*", SearchOption.AllDirectories)
            : [];
    }

    private static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(20);
        }
    }

    /// <summary>A body sent in pieces of a given size, without a length (chunked, as a streamed pack is); optionally broken off after some bytes once <c>breakWhen</c> completes.</summary>
    private sealed class PiecesContent(byte[] bytes, int piece, int? breakAfter, Task? breakWhen = null) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var sent = 0; sent < bytes.Length; sent += piece)
            {
                if (breakAfter is { } limit && sent >= limit)
                {
                    await stream.FlushAsync();
                    await breakWhen!;
                    throw new IOException("the agent's connection broke");
                }

                await stream.WriteAsync(bytes.AsMemory(sent, Math.Min(piece, bytes.Length - sent)));
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
