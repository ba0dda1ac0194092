using System.Security.Cryptography;
using Portal.Engine.Compression;
using Portal.Engine.Crypto;
using Portal.Engine.Progress;
using Portal.Engine.Repository;
using Portal.Engine.Storage;

namespace Portal.Engine.Operations;

/// <summary>
/// Prune, under an exclusive lock (so no backup runs meanwhile): find every blob a snapshot needs, copy the
/// used blobs of mostly-unused packs into new packs, write one new index for everything kept, then delete
/// the old indexes, and only then the packs nothing needs. Unindexed packs younger than
/// <see cref="Grace"/> are kept: a backup that ignores locks, or one that crashed, may still want them.
/// If any snapshot cannot be fully read, nothing is deleted.
/// </summary>
internal sealed class PruneOperation(Repo repo)
{
    public static readonly TimeSpan Grace = TimeSpan.FromHours(1);
    private const double RepackUnusedShare = 0.2;

    public async Task<PruneResult> RunAsync(IProgress<OperationProgress> progress, CancellationToken ct)
    {
        await using var repoLock = await RepoLock.AcquireAsync(repo, exclusive: true, "prune", ct).ConfigureAwait(false);
        var start = repo.Time.GetUtcNow();
        var index = await MasterIndex.LoadAsync(repo, ct).ConfigureAwait(false);
        // Packs whose index is lost or damaged are indexed from their headers, but only those older than the
        // grace period: a young unindexed pack may belong to a backup that is still running.
        await OrphanPacks.AdoptAsync(repo, index, [], ct, writtenBefore: start - Grace, save: false).ConfigureAwait(false);
        var snapshots = await SnapshotCatalog.LoadAllAsync(repo, ct, strict: true).ConfigureAwait(false);
        progress.Report(new OperationProgress(OperationPhase.Prune, 0, snapshots.Count, 0, 0));
        var used = new HashSet<BlobId>();
        foreach (var s in snapshots)
            await MarkAsync(index, BlobId.Parse(s.Snapshot.Tree), used, ct).ConfigureAwait(false);

        var stored = new Dictionary<string, Storage.ObjectInfo>(StringComparer.Ordinal);
        await foreach (var o in repo.Store.ListAsync(Repo.DataPrefix, ct).ConfigureAwait(false)) stored[o.Name] = o;

        // A chunk may be known in several packs (stored twice, or a stale index entry of a pack that is gone): one
        // copy in a pack that exists is kept; every other copy counts as unused. A pack that is gone
        // is dropped from the index, unless it held the only copy of a chunk a snapshot needs (then its entries stay,
        // so check keeps naming the damage; `repair snapshots` deals with it).
        var exists = (BlobId pack) => stored.ContainsKey(Repo.PackName(pack));
        var needed = new HashSet<(BlobId Id, BlobId Pack)>();
        var damaged = new HashSet<BlobId>(); // packs with a copy that does not read back intact
        var copies = new List<(BlobId Id, List<(BlobId Pack, bool Good)> Present)>();
        foreach (var id in used)
        {
            var all = index.Locations(id);
            var present = all.Where(l => exists(l.Pack)).ToList();
            if (present.Count <= 1)
            {
                foreach (var l in present.Count == 1 ? present : all) needed.Add((id, l.Pack));
                continue;
            }
            // Several copies (rare): each is read back, so a damaged copy never outlives the good one.
            var results = new List<(BlobId Pack, bool Good)>();
            foreach (var (pack, loc) in present)
            {
                var good = await ReadVerifiedAsync(id, pack, loc, ct).ConfigureAwait(false) is not null;
                if (!good) damaged.Add(pack);
                results.Add((pack, good));
            }
            copies.Add((id, results));
        }
        // Keep a good copy, in a pack without damage when there is one; when no copy is good, every copy stays.
        foreach (var (id, present) in copies)
        {
            var good = present.Where(c => c.Good).OrderBy(c => damaged.Contains(c.Pack)).Select(c => (BlobId?)c.Pack).FirstOrDefault();
            if (good is { } pack) needed.Add((id, pack));
            else foreach (var c in present) needed.Add((id, c.Pack));
        }
        bool Needed((BlobId Id, BlobId Pack, BlobLocation Location) b) => needed.Contains((b.Id, b.Pack));

        var byPack = index.Snapshot().GroupBy(b => b.Pack).ToList();
        var keep = new List<IGrouping<BlobId, (BlobId Id, BlobId Pack, BlobLocation Location)>>();
        var delete = new List<string>();
        var repack = new List<(BlobId Id, BlobId Pack, BlobLocation Location)>();
        var repacked = 0;
        foreach (var pack in byPack)
        {
            if (!exists(pack.Key))
            {
                if (pack.Any(Needed)) keep.Add(pack);
                continue; // gone already: nothing to delete, and its entries leave the index
            }
            var total = pack.Sum(b => (long)b.Location.Length);
            var unused = pack.Where(b => !Needed(b)).Sum(b => (long)b.Location.Length);
            if (unused == 0) keep.Add(pack);
            else if (unused == total) delete.Add(Repo.PackName(pack.Key));
            else if (unused >= total * RepackUnusedShare || damaged.Contains(pack.Key)) // a damaged pack goes once its good blobs are copied out
            {
                repack.AddRange(pack.Where(Needed));
                delete.Add(Repo.PackName(pack.Key));
                repacked++;
            }
            else keep.Add(pack);
        }
        var indexedNames = byPack.Select(p => Repo.PackName(p.Key)).ToHashSet(StringComparer.Ordinal);
        var inGrace = 0;
        foreach (var (name, info) in stored)
        {
            if (indexedNames.Contains(name)) continue;
            if (info.LastModified > start - Grace) inGrace++;
            else delete.Add(name);
        }

        // Copy used blobs out of packs that go away. They are verified first, so damage is never copied on; a damaged
        // copy is replaced by another good copy when one exists.
        var newIndex = new MasterIndex();
        await using var writer = new PackWriter(repo, newIndex);
        foreach (var (id, pack, loc) in repack)
        {
            var good = await ReadVerifiedAsync(id, pack, loc, ct).ConfigureAwait(false);
            foreach (var (otherPack, otherLoc) in index.Locations(id))
            {
                if (good is not null) break;
                if (otherPack != pack && exists(otherPack)) good = await ReadVerifiedAsync(id, otherPack, otherLoc, ct).ConfigureAwait(false);
            }
            if (good is null)
                throw new DamagedObjectException(Repo.PackName(pack), $"blob {id.Short} fails verification; prune stopped without deleting anything (run check).");
            await writer.AddAsync(id, loc.Type, good, ct).ConfigureAwait(false);
        }
        await writer.FlushAsync(ct).ConfigureAwait(false);
        var full = writer.TakeWritten();
        foreach (var pack in keep)
            full.Add(new IndexedPack(pack.Key, pack.Select(b => (b.Id, b.Location.Type, b.Location.Offset, b.Location.Length)).ToList()));
        progress.Report(new OperationProgress(OperationPhase.Prune, snapshots.Count, snapshots.Count, 0, 0));

        // From here on the order matters: new index, then drop old indexes, then packs.
        var newName = await repo.SaveIndexAsync(full, ct).ConfigureAwait(false);
        foreach (var old in index.IndexNames.Where(n => n != newName))
            await repo.Store.DeleteAsync(old, CancellationToken.None).ConfigureAwait(false);
        long freed = 0;
        foreach (var name in delete)
        {
            freed += stored.TryGetValue(name, out var info) ? info.Length : 0;
            await repo.Store.DeleteAsync(name, CancellationToken.None).ConfigureAwait(false);
        }
        progress.Report(OperationProgress.Final(OperationPhase.Prune, snapshots.Count, 0));
        return new PruneResult { PacksDeleted = delete.Count, PacksRepacked = repacked, PacksKeptInGrace = inGrace, BytesFreed = freed - writer.BytesWritten };
    }

    /// <summary>The sealed bytes of one copy of a blob, or null when that copy is missing or fails verification.</summary>
    private async Task<byte[]?> ReadVerifiedAsync(BlobId id, BlobId pack, BlobLocation loc, CancellationToken ct)
    {
        try
        {
            var sealedBytes = await repo.Store.GetRangeAsync(Repo.PackName(pack), loc.Offset, (int)loc.Length, ct).ConfigureAwait(false);
            return repo.Key.Id(BlobCodec.Decode(repo.Key, sealedBytes, Repo.BlobAad(loc.Type, id))) == id ? sealedBytes : null;
        }
        catch (Exception e) when (e is CryptographicException or InvalidDataException or ObjectNotFoundException or ObjectTruncatedException or ObjectCorruptException)
        {
            return null;
        }
    }

    private async Task MarkAsync(MasterIndex index, BlobId treeId, HashSet<BlobId> used, CancellationToken ct)
    {
        if (!used.Add(treeId)) return;
        Tree tree;
        try { tree = await index.LoadTreeAsync(repo, treeId, ct).ConfigureAwait(false); }
        catch (RepositoryException e)
        {
            throw new RepositoryException($"Prune stopped without deleting anything: a snapshot cannot be read ({e.Message}). Run check.", e);
        }
        foreach (var node in tree.Nodes)
        {
            if (node.Subtree is not null) await MarkAsync(index, BlobId.Parse(node.Subtree), used, ct).ConfigureAwait(false);
            foreach (var hex in node.Content ?? []) used.Add(BlobId.Parse(hex));
        }
    }
}
