using System.Diagnostics;
using System.Text.Json;
using Portal.Engine;
using Portal.Engine.Compression;
using Portal.Engine.Crypto;
using Portal.Engine.Operations;
using Portal.Engine.Repository;
using Portal.Engine.Storage;

namespace Portal.Bench;

/// <summary>
/// Repository scale in recovery points (issue 24): one item with N recovery points, as an hourly policy would leave
/// after N hours. The first point is a real backup of SOURCE (made here if empty: 1,000 small files in 20 folders);
/// each later one is written directly (no file is read): the first point's root with its "journal.log" changed and one
/// of its 20 folders with one file changed, so every point adds two trees and two 4 KiB chunks, as a day of small edits
/// does. `bench/points-scale.sh` then times the CLI's check, a no-change backup, forget and prune on it.
/// </summary>
internal static class PointsScale
{
    public static async Task MakeAsync(string repoDir, string source, int points, string passphrase)
    {
        if (!Directory.Exists(source) || !Directory.EnumerateFileSystemEntries(source).Any())
            for (var i = 0; i < 1000; i++)
            {
                var path = Path.Combine(source, $"d{i % 20:D2}", $"f{i:D4}.txt");
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllText(path, $"file {i} " + new string((char)('a' + i % 26), 200 + i % 700));
            }
        File.WriteAllText(Path.Combine(source, "journal.log"), "day 0\n");
        var sw = Stopwatch.StartNew();
        var store = new LocalDirectoryStore(repoDir);
        using (var engine = await BackupEngine.InitAsync(store, passphrase))
            await engine.BackupAsync(new BackupRequest(source));
        using var repo = await Repo.OpenAsync(store, passphrase, TimeProvider.System, repoDir, default);
        var index = await MasterIndex.LoadAsync(repo, default);
        var first = (await SnapshotCatalog.LoadAllAsync(repo, default)).Single().Snapshot;
        var root = await index.LoadTreeAsync(repo, BlobId.Parse(first.Tree), default);
        var folders = root.Nodes.Where(n => n.Type == Node.Dir).ToList();
        var folderTrees = new List<Tree>();
        foreach (var f in folders) folderTrees.Add(await index.LoadTreeAsync(repo, BlobId.Parse(f.Subtree!), default));
        var rng = new Random(24);
        await using (var packs = new PackWriter(repo, index))
        {
            var parent = first;
            for (var p = 1; p < points; p++)
            {
                var journal = await AddAsync(repo, index, packs, Repo.DataBlob, Chunk(rng));
                var changed = await AddAsync(repo, index, packs, Repo.DataBlob, Chunk(rng));
                var k = p % folders.Count;
                var folder = folderTrees[k].Nodes.Select(Clone).ToList();
                folder[p % folder.Count].Content = [changed.ToHex()];
                folder[p % folder.Count].MtimeNs += p;
                var folderId = await AddTreeAsync(repo, index, packs, folder);
                var nodes = root.Nodes.Select(Clone).ToList();
                foreach (var n in nodes)
                    if (n.Name == folders[k].Name) n.Subtree = folderId.ToHex();
                    else if (n.Name == "journal.log") { n.Content = [journal.ToHex()]; n.Size = 4096; n.MtimeNs += p; }
                var rootId = await AddTreeAsync(repo, index, packs, nodes);
                var snapshot = new Snapshot
                {
                    Time = first.Time.AddHours(p), Host = first.Host, User = first.User, Paths = first.Paths, Tree = rootId.ToHex(),
                    Parent = null, Tags = [], Status = "Completed", Summary = first.Summary,
                };
                await repo.SaveJsonAsync(Repo.SnapshotsPrefix, snapshot, RepoJson.Default.Snapshot, default);
                if (p % 1000 == 0) Console.Error.WriteLine($"{p} points written");
            }
            await packs.FlushAsync(default);
            await packs.SaveIndexAsync();
        }
        Console.WriteLine($"points-make: {points:N0} recovery points of {first.Summary.Files:N0} files in {sw.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>Forgets every point but each tenth (and the latest), as thinning retention does; prints the time.</summary>
    public static async Task ForgetAsync(string repoDir, string passphrase)
    {
        using var engine = await BackupEngine.OpenAsync(new LocalDirectoryStore(repoDir), passphrase);
        var all = await engine.ListSnapshotsAsync();
        var ordered = all.OrderBy(s => s.Time).ToList();
        var forget = ordered.Where((_, i) => i % 10 != 0 && i != ordered.Count - 1).Select(s => s.Id).ToList();
        var sw = Stopwatch.StartNew();
        await engine.ForgetAsync(forget);
        Console.WriteLine($"points-forget: {forget.Count:N0} of {all.Count:N0} points forgotten in {sw.Elapsed.TotalSeconds:0.00} s");
    }

    private static byte[] Chunk(Random rng)
    {
        var b = new byte[4096];
        rng.NextBytes(b);
        return b;
    }

    private static Node Clone(Node n) => JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(n, RepoJson.Default.Node), RepoJson.Default.Node)!;

    private static async Task<BlobId> AddTreeAsync(Repo repo, MasterIndex index, PackWriter packs, List<Node> nodes)
    {
        using var writer = new TreeWriter();
        foreach (var n in nodes) writer.Add(n);
        return await AddAsync(repo, index, packs, Repo.TreeBlob, writer.Finish().ToArray());
    }

    private static async Task<BlobId> AddAsync(Repo repo, MasterIndex index, PackWriter packs, byte type, byte[] plain)
    {
        var id = repo.Key.Id(plain);
        if (index.TryReserve(id)) await packs.AddAsync(id, type, BlobCodec.Encode(repo.Key, plain, Repo.BlobAad(type, id)), default);
        return id;
    }
}
