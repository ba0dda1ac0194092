using System.Text.Json;
using Portal.Engine.Compression;
using Portal.Engine.Operations;
using Portal.Engine.Progress;
using Portal.Engine.Repository;

namespace Portal.Tests.Engine.Operations;

/// <summary>
/// Check finds everything restore refuses (sizes, fingerprints, escaping or repeated names), and restore never reports
/// a file shorter than its recorded size as restored. Snapshots written with the right key, so they pass
/// authentication. Issue 23.
/// </summary>
public sealed class StrictCheckTests : IDisposable
{
    private readonly EngineTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    private static Node File(string name, string blob, long size = 4, string? fingerprint = null) =>
        new() { Name = name, Type = Node.File, Mode = 0x1A4, Size = size, Content = [blob], Fingerprint = fingerprint };

    private async Task<string> WriteSnapshotAsync(Func<string, Node[]> nodes)
    {
        using (await _kit.InitAsync()) { }
        using var repo = await Repo.OpenAsync(_kit.Store, EngineTestKit.Passphrase, TimeProvider.System, "test", default);
        var index = await MasterIndex.LoadAsync(repo, default);
        var packs = new PackWriter(repo, index);
        async Task<string> Blob(byte type, byte[] plain)
        {
            var id = repo.Key.Id(plain);
            if (index.TryReserve(id)) await packs.AddAsync(id, type, BlobCodec.Encode(repo.Key, plain, Repo.BlobAad(type, id)), default);
            return id.ToHex();
        }
        var data = await Blob(Repo.DataBlob, "data"u8.ToArray());
        var root = await Blob(Repo.TreeBlob, JsonSerializer.SerializeToUtf8Bytes(new Tree { Nodes = [.. nodes(data)] }, RepoJson.Default.Tree));
        await packs.FlushAsync(default);
        await repo.SaveIndexAsync(packs.TakeWritten(), default);
        var name = await repo.SaveJsonAsync(Repo.SnapshotsPrefix, new Snapshot { Time = DateTimeOffset.UtcNow, Paths = ["/x"], Tree = root }, RepoJson.Default.Snapshot, default);
        return name["snapshots/".Length..];
    }

    [Fact]
    public async Task Check_with_read_data_fails_a_file_whose_size_or_fingerprint_disagrees_with_its_chunks_and_restore_refuses_it()
    {
        var snapshot = await WriteSnapshotAsync(data =>
        [
            File("longer-than-its-chunks.txt", data, size: 10),
            File("ok.txt", data),
            File("wrong-fingerprint.txt", data, fingerprint: new string('0', 32)),
        ]);
        using var engine = await _kit.OpenAsync();

        Assert.True((await engine.CheckAsync()).IsHealthy); // structure alone is sound: only reading the data can tell
        var check = await engine.CheckAsync(readData: true);
        var problem = Assert.Single(check.Problems);
        Assert.Contains("recorded size or fingerprint disagrees", problem.Problem);
        Assert.Contains(problem.Files, f => f.Contains("longer-than-its-chunks.txt (10 bytes recorded, its chunks hold 4)"));
        Assert.Contains(problem.Files, f => f.Contains("wrong-fingerprint.txt (its content does not match the fingerprint"));
        Assert.DoesNotContain(problem.Files, f => f.Contains("ok.txt"));

        var target = _kit.NewTarget();
        var r = await engine.RestoreAsync(new RestoreRequest(snapshot, target));
        Assert.Equal(OperationStatus.Failed, r.Status); // never success with a short file
        Assert.Contains(r.Errors, e => e.StartsWith("longer-than-its-chunks.txt", StringComparison.Ordinal) && e.Contains("4 bytes but 10 were recorded"));
        Assert.Contains(r.Errors, e => e.StartsWith("wrong-fingerprint.txt", StringComparison.Ordinal));
        Assert.False(System.IO.File.Exists(Path.Combine(target, "longer-than-its-chunks.txt")));
        Assert.Equal("data", await System.IO.File.ReadAllTextAsync(Path.Combine(target, "ok.txt")));
        Assert.Equal(1, r.FilesRestored);
    }

    [Fact]
    public async Task Check_fails_names_that_escape_the_target_or_repeat_in_a_folder()
    {
        await WriteSnapshotAsync(data => [File("../escaped.txt", data), File("twice.txt", data), File("twice.txt", data), File("ok.txt", data)]);
        using var engine = await _kit.OpenAsync();
        var check = await engine.CheckAsync();
        var problem = Assert.Single(check.Problems);
        Assert.StartsWith("tree ", problem.ObjectName);
        Assert.Contains(problem.Files, f => f.Contains("path separator"));
        Assert.Contains(problem.Files, f => f.EndsWith(":twice.txt", StringComparison.Ordinal));
        Assert.DoesNotContain(problem.Files, f => f.Contains("ok.txt"));
    }
}
