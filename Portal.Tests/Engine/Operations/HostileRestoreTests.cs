using System.Text.Json;
using Portal.Engine;
using Portal.Engine.Compression;
using Portal.Engine.Crypto;
using Portal.Engine.Operations;
using Portal.Engine.Progress;
using Portal.Engine.Repository;

namespace Portal.Tests.Engine.Operations;

/// <summary>A repository that lies (written with the right key, so it passes authentication) must not write outside the target.</summary>
public sealed class HostileRestoreTests : IDisposable
{
    private readonly EngineTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    private static Node File(string name, string blob) => new() { Name = name, Type = Node.File, Mode = 0x1A4, Size = 4, Content = [blob] };

    private async Task<string> WriteHostileSnapshotAsync()
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
        Task<string> TreeBlob(params Node[] nodes) => Blob(Repo.TreeBlob, JsonSerializer.SerializeToUtf8Bytes(new Tree { Nodes = [.. nodes] }, RepoJson.Default.Tree));

        var evil = await Blob(Repo.DataBlob, "evil"u8.ToArray());
        var outside = Path.Combine(_kit.Root, "outside");
        var inner = await TreeBlob(File("pwned.txt", evil));
        var root = await TreeBlob(
            File("..", evil),
            File("../escaped.txt", evil),
            File(outside + "/abs.txt", evil),
            File("nul\0name", evil),
            new Node { Name = "", Type = Node.File, Content = [evil] },
            new Node { Name = "link", Type = Node.Symlink, LinkTarget = outside, Mode = 0x1FF },
            new Node { Name = "link", Type = Node.Dir, Mode = 0x1ED, Subtree = inner },
            new Node { Name = "pre", Type = Node.Dir, Mode = 0x1ED, Subtree = inner },
            new Node { Name = "up", Type = Node.Dir, Mode = 0x1ED, Subtree = await TreeBlob(new Node { Name = "..", Type = Node.Dir, Mode = 0x1ED, Subtree = inner }) },
            File("ok.txt", evil));
        await packs.FlushAsync(default);
        await repo.SaveIndexAsync(packs.TakeWritten(), default);
        var name = await repo.SaveJsonAsync(Repo.SnapshotsPrefix, new Snapshot { Time = DateTimeOffset.UtcNow, Paths = ["/x"], Tree = root }, RepoJson.Default.Snapshot, default);
        return name["snapshots/".Length..];
    }

    [Fact]
    public async Task Dot_dot_absolute_nul_and_symlinked_paths_are_refused_and_nothing_is_written_outside_the_target()
    {
        var snapshot = await WriteHostileSnapshotAsync();
        var outside = Path.Combine(_kit.Root, "outside");
        Directory.CreateDirectory(outside);
        var container = Path.Combine(_kit.Root, "restore-container");
        var target = Path.Combine(container, "target");
        Directory.CreateDirectory(target);
        // An existing symlink in the target, pointing outside, where the snapshot has a folder.
        System.IO.File.CreateSymbolicLink(Path.Combine(target, "pre"), outside);

        using var engine = await _kit.OpenAsync();
        var r = await engine.RestoreAsync(new RestoreRequest(snapshot, target));

        Assert.Equal(OperationStatus.Failed, r.Status);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        Assert.Equal(["target"], Directory.EnumerateFileSystemEntries(container).Select(Path.GetFileName));
        Assert.Equal("evil", await System.IO.File.ReadAllTextAsync(Path.Combine(target, "ok.txt")));
        Assert.Contains(r.Errors, e => e.Contains("'..'", StringComparison.Ordinal));
        Assert.Contains(r.Errors, e => e.Contains("path separator", StringComparison.Ordinal));
        Assert.Contains(r.Errors, e => e.Contains("NUL", StringComparison.Ordinal));
        Assert.Contains(r.Errors, e => e.Contains("empty name", StringComparison.Ordinal));
        Assert.Contains(r.Errors, e => e.StartsWith("../escaped.txt: refused", StringComparison.Ordinal)); // named by the entry, not its folder
        Assert.Contains(r.Errors, e => e.StartsWith("link: refused: the name appears twice", StringComparison.Ordinal));
        Assert.Contains(r.Errors, e => e.StartsWith("pre: refused: an existing symlink", StringComparison.Ordinal));
        Assert.Contains(r.Errors, e => e.StartsWith("up/..: refused an entry", StringComparison.Ordinal));
        Assert.Equal(outside, new FileInfo(Path.Combine(target, "link")).LinkTarget);
    }

    [Fact]
    public async Task A_chunk_sealed_under_another_chunks_id_is_caught_by_the_fingerprint_or_the_chunk_id_and_no_file_is_left()
    {
        using (await _kit.InitAsync()) { }
        string snapshot;
        using (var repo = await Repo.OpenAsync(_kit.Store, EngineTestKit.Passphrase, TimeProvider.System, "test", default))
        {
            var index = await MasterIndex.LoadAsync(repo, default);
            var packs = new PackWriter(repo, index);
            var seed = repo.Key.FingerprintSeed();
            string Fingerprint(byte[] data) => Convert.ToHexStringLower(System.IO.Hashing.XxHash128.Hash(data, seed));
            async Task<string> Blob(byte type, byte[] plain, BlobId? claimed = null)
            {
                var id = claimed ?? repo.Key.Id(plain); // a writer bug: these bytes sealed under another chunk's id
                if (index.TryReserve(id)) await packs.AddAsync(id, type, BlobCodec.Encode(repo.Key, plain, Repo.BlobAad(type, id)), default);
                return id.ToHex();
            }
            byte[] good = "good"u8.ToArray(), fine = "fine"u8.ToArray();
            var swapped = await Blob(Repo.DataBlob, "evil"u8.ToArray(), repo.Key.Id(good));
            var right = await Blob(Repo.DataBlob, fine);
            Node Entry(string name, string blob, string? fingerprint) => new() { Name = name, Type = Node.File, Mode = 0x1A4, Size = 4, Content = [blob], Fingerprint = fingerprint };
            var root = await Blob(Repo.TreeBlob, JsonSerializer.SerializeToUtf8Bytes(new Tree
            {
                Nodes = [Entry("fingerprinted.txt", swapped, Fingerprint(good)), Entry("fine.txt", right, Fingerprint(fine)), Entry("old.txt", swapped, null)],
            }, RepoJson.Default.Tree));
            await packs.FlushAsync(default);
            await repo.SaveIndexAsync(packs.TakeWritten(), default);
            var name = await repo.SaveJsonAsync(Repo.SnapshotsPrefix, new Snapshot { Time = DateTimeOffset.UtcNow, Paths = ["/x"], Tree = root }, RepoJson.Default.Snapshot, default);
            snapshot = name["snapshots/".Length..];
        }

        using var engine = await _kit.OpenAsync();
        var target = _kit.NewTarget();
        var r = await engine.RestoreAsync(new RestoreRequest(snapshot, target));

        Assert.Equal(["fine.txt"], Directory.EnumerateFileSystemEntries(target).Select(Path.GetFileName));
        Assert.Equal("fine", await System.IO.File.ReadAllTextAsync(Path.Combine(target, "fine.txt")));
        Assert.Contains(r.Errors, e => e.StartsWith("fingerprinted.txt: not restored: its content does not match the fingerprint", StringComparison.Ordinal));
        Assert.Contains(r.Errors, e => e.StartsWith("old.txt: not restored:", StringComparison.Ordinal) && e.Contains("does not match its id", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Include_paths_with_dot_dot_are_refused()
    {
        _kit.Write("a.txt", "a");
        using var engine = await _kit.InitAsync();
        await engine.BackupAsync(new BackupRequest(_kit.Source));
        await Assert.ThrowsAsync<ArgumentException>(() => engine.RestoreAsync(new RestoreRequest("latest", _kit.NewTarget()) { Include = ["../a.txt"] }));
    }
}
