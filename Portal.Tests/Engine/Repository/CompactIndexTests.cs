using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Portal.Engine.Crypto;
using Portal.Engine.Repository;

namespace Portal.Tests.Engine.Repository;

/// <summary>
/// The compact in-memory index (issue 24): 45 bytes a location, every location of a chunk kept in the order it was
/// learnt (the first stays the one read first), locations added during a backup found before and after they are merged
/// into the table. The scale figures (10,000,000 chunks) are a benchmark: `Portal.Bench index-scale`.
/// </summary>
public sealed class CompactIndexTests
{
    private static BlobId RandomId() => new(RandomNumberGenerator.GetBytes(32));

    private static (BlobId, byte, uint, uint)[] Blobs(IEnumerable<BlobId> ids, uint offsetBase = 0) =>
        ids.Select((id, i) => (id, Repo.DataBlob, offsetBase + (uint)i * 100, 100u)).ToArray();

    [Fact]
    public void An_entry_is_45_bytes()
    {
        Assert.Equal(45, Marshal.SizeOf<IndexEntry>());
        Assert.Equal(45, System.Runtime.CompilerServices.Unsafe.SizeOf<IndexEntry>());
    }

    [Fact]
    public void Every_loaded_chunk_is_found_with_its_location_and_others_are_not()
    {
        var ids = Enumerable.Range(0, 50_000).Select(_ => RandomId()).ToArray();
        var packs = Enumerable.Range(0, 50).Select(_ => RandomId()).ToArray();
        var index = new MasterIndex();
        var builder = index.StartBuild();
        for (var p = 0; p < packs.Length; p++)
            builder.Add([new IndexedPack(packs[p], Blobs(ids.Skip(p * 1000).Take(1000)))]);
        builder.Finish();

        Assert.Equal(50_000, index.BlobCount);
        for (var i = 0; i < ids.Length; i++)
        {
            Assert.True(index.TryGet(ids[i], out var loc, out var pack));
            Assert.Equal(packs[i / 1000], pack);
            Assert.Equal((uint)(i % 1000) * 100, loc.Offset);
        }
        for (var i = 0; i < 10_000; i++) Assert.False(index.Contains(RandomId()));
        // Ids that share their first eight bytes with stored ones (same bucket, same prefix) are still told apart.
        var near = ids[17].ToBytes();
        near[31] ^= 1;
        Assert.False(index.Contains(new BlobId(near)));
    }

    [Fact]
    public void A_chunk_stored_three_times_keeps_every_location_in_the_order_learnt_and_a_repeated_one_once()
    {
        var shared = RandomId();
        var (p1, p2, p3) = (RandomId(), RandomId(), RandomId());
        var index = new MasterIndex();
        var builder = index.StartBuild();
        builder.Add([new IndexedPack(p1, [(shared, Repo.DataBlob, 0u, 100u), (RandomId(), Repo.DataBlob, 100u, 100u)])]);
        builder.Add([new IndexedPack(p2, [(RandomId(), Repo.DataBlob, 0u, 100u), (shared, Repo.DataBlob, 100u, 100u)])]);
        // The same index object read twice (a stale copy that reappeared): its location counts once.
        builder.Add([new IndexedPack(p1, [(shared, Repo.DataBlob, 0u, 100u)])]);
        builder.Finish();

        Assert.Equal(new[] { p1, p2 }, index.Locations(shared).Select(l => l.Pack));
        Assert.True(index.TryGet(shared, out _, out var primary));
        Assert.Equal(p1, primary);

        // A third copy written by a backup, before and after it is merged into the table.
        index.AddPack(p3, [(shared, Repo.DataBlob, 500u, 100u)]);
        index.AddPack(p2, [(shared, Repo.DataBlob, 100u, 100u)]);
        Assert.Equal(new[] { p1, p2, p3 }, index.Locations(shared).Select(l => l.Pack));
        index.Compact();
        Assert.Equal(new[] { p1, p2, p3 }, index.Locations(shared).Select(l => l.Pack));
        Assert.Equal(500u, index.Locations(shared)[2].Location.Offset);
        Assert.Equal(1, index.BlobsWithCopies);
        Assert.Equal(3, index.Snapshot().Count(s => s.Id == shared));
    }

    [Fact]
    public void Chunks_a_backup_adds_are_found_reserved_once_and_survive_the_merges_into_the_table()
    {
        var index = new MasterIndex();
        var loaded = Enumerable.Range(0, 1000).Select(_ => RandomId()).ToArray();
        var builder = index.StartBuild();
        builder.Add([new IndexedPack(RandomId(), Blobs(loaded))]);
        builder.Finish();
        Assert.False(index.TryReserve(loaded[3]));

        // Enough new chunks to merge several times (a merge happens at 65,536 added locations).
        var added = new List<BlobId>();
        for (var p = 0; p < 40; p++)
        {
            var ids = Enumerable.Range(0, 5000).Select(_ => RandomId()).ToArray();
            foreach (var id in ids) Assert.True(index.TryReserve(id));
            Assert.False(index.TryReserve(ids[0]));
            index.AddPack(RandomId(), Blobs(ids));
            Assert.False(index.TryReserve(ids[0]));
            added.AddRange(ids);
        }
        Assert.Equal(201_000, index.BlobCount);
        Assert.All(added.Concat(loaded), id => Assert.True(index.Contains(id)));
        index.Compact();
        Assert.Equal(201_000, index.BlobCount);
        Assert.All(added.Concat(loaded), id => Assert.True(index.TryGet(id, out _, out _)));
        Assert.Equal(201_000, index.Snapshot().Count);
    }

    [Fact]
    public async Task Lookups_on_other_threads_see_every_chunk_while_a_backup_adds_and_merges()
    {
        var index = new MasterIndex();
        var known = Enumerable.Range(0, 20_000).Select(_ => RandomId()).ToArray();
        var builder = index.StartBuild();
        builder.Add([new IndexedPack(RandomId(), Blobs(known))]);
        builder.Finish();
        var added = new BlobId[200_000];
        for (var i = 0; i < added.Length; i++) added[i] = RandomId();
        var published = 0;
        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 2).Select(r => Task.Run(() =>
        {
            var misses = 0;
            var rng = new Random();
            while (!stop.IsCancellationRequested)
            {
                if (!index.Contains(known[rng.Next(known.Length)])) misses++;
                var upTo = Volatile.Read(ref published);
                if (upTo > 0 && !index.TryGet(added[rng.Next(upTo)], out _, out _)) misses++;
            }
            return misses;
        })).ToArray();
        for (var p = 0; p < added.Length; p += 1000)
        {
            index.AddPack(RandomId(), Blobs(added.Skip(p).Take(1000)));
            Volatile.Write(ref published, p + 1000);
        }
        await stop.CancelAsync();
        Assert.Equal(new[] { 0, 0 }, await Task.WhenAll(readers));
    }
}
