using System.Runtime.InteropServices;
using Portal.Engine.Crypto;

namespace Portal.Engine.Repository;

/// <summary>One location of one blob as the index holds it in memory: 45 bytes, no padding.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal struct IndexEntry
{
    public BlobId Id;
    public int Pack;
    public uint Offset;
    public uint Length;
    public byte Type;

    public readonly BlobLocation Location => new(Pack, Offset, Length, Type);

    public readonly bool SameLocation(in IndexEntry other) =>
        Pack == other.Pack && Offset == other.Offset && Length == other.Length && Type == other.Type;
}

/// <summary>
/// An immutable, compact table of blob locations for repositories of tens of millions of chunks (issue 24): one array
/// of fixed-size <see cref="IndexEntry"/> sorted by id (45 bytes a location) and a directory of where each bucket of
/// ids (the top bits of the id, which is a keyed hash and so uniform) starts in it (4 bytes per bucket, one bucket per
/// 2-4 entries: 1-2 bytes a chunk). A lookup reads the directory and then 2-4 neighbouring entries: no hashing, no
/// pointers, nothing per entry for the garbage collector to trace. Every location of a blob is kept: a blob stored
/// more than once has adjacent entries, in the order they were given to <see cref="Build"/> (identical locations
/// once). Builds in linear time: entries are counted per bucket, scattered in order and each bucket is sorted alone.
/// At most 2^31 - 1 locations (128 TiB at 64 KiB chunks).
/// </summary>
internal sealed class BlobTable
{
    public static readonly BlobTable Empty = Build([], 0);

    private readonly IndexEntry[] _entries;
    private readonly uint[] _directory;
    private readonly int _shift;

    private BlobTable(IndexEntry[] entries, int count, uint[] directory, int shift, int distinct)
    {
        _entries = entries;
        Count = count;
        _directory = directory;
        _shift = shift;
        DistinctCount = distinct;
    }

    /// <summary>Locations held (a blob with two copies counts twice).</summary>
    public int Count { get; }

    /// <summary>Distinct blob ids held.</summary>
    public int DistinctCount { get; }

    /// <summary>Bytes of the arrays this table holds.</summary>
    public long HeldBytes => (long)_entries.Length * Marshal.SizeOf<IndexEntry>() + (long)_directory.Length * sizeof(uint);

    /// <summary>Position of the first location of <paramref name="id"/>, or -1.</summary>
    public int Find(in BlobId id)
    {
        var bucket = (int)(id.Prefix >> _shift);
        var end = (int)_directory[bucket + 1];
        var entries = _entries;
        for (var i = (int)_directory[bucket]; i < end; i++)
        {
            ref readonly var e = ref entries[i];
            if (e.Id.Prefix > id.Prefix) return -1;
            if (e.Id == id) return i;
        }
        return -1;
    }

    /// <summary>The entry at a position <see cref="Find"/> returned; the blob's other locations follow it while the id is the same.</summary>
    public ref readonly IndexEntry this[int position] => ref _entries[position];

    /// <summary>True if <paramref name="id"/> is held at exactly this location.</summary>
    public bool HasLocation(in BlobId id, in IndexEntry location)
    {
        for (var i = Find(id); i >= 0 && i < Count && _entries[i].Id == id; i++)
            if (_entries[i].SameLocation(location)) return true;
        return false;
    }

    /// <summary>The table's own array as a segment for <see cref="Build"/> (read only there: a table never changes).</summary>
    public (IndexEntry[] Entries, int Count) AsSegment => (_entries, Count);

    /// <summary>Every location in id order.</summary>
    public IEnumerable<IndexEntry> All()
    {
        for (var i = 0; i < Count; i++) yield return _entries[i];
    }

    /// <summary>
    /// Builds a table from <paramref name="segments"/> (arrays with how many of their entries count) holding
    /// <paramref name="total"/> entries in all. Locations of one id keep the order of the segments and of the entries
    /// within them; a location given twice is kept once.
    /// </summary>
    public static BlobTable Build(IReadOnlyList<(IndexEntry[] Entries, int Count)> segments, long total)
    {
        if (total > int.MaxValue) throw new RepositoryException("The index holds more than 2,147,483,647 chunk locations, more than this version can open.");
        // One bucket per 2-4 entries: floor(log2 n) - 1 bits, between 1 and 30.
        var bits = Math.Clamp(63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)Math.Max(total, 1)) - 1, 1, 30);
        var shift = 64 - bits;
        var buckets = 1 << bits;
        // Large arrays are pinned and advised to use huge pages before they are first written (see Native).
        var large = total >= 1 << 18;
        var directory = large ? GC.AllocateUninitializedArray<uint>(buckets + 1, pinned: true) : new uint[buckets + 1];
        if (large)
        {
            Platform.Native.AdviseHugePages(directory);
            Array.Clear(directory);
        }
        foreach (var (seg, count) in segments)
            for (var i = 0; i < count; i++) directory[(int)(seg[i].Id.Prefix >> shift) + 1]++;
        for (var b = 1; b <= buckets; b++) directory[b] += directory[b - 1];
        // Scatter with directory[b] as bucket b's cursor: afterwards it holds bucket b's end, i.e. b+1's start.
        var entries = total == 0 ? [] : GC.AllocateUninitializedArray<IndexEntry>((int)total, pinned: large);
        if (large) Platform.Native.AdviseHugePages(entries);
        foreach (var (seg, count) in segments)
            for (var i = 0; i < count; i++) entries[directory[(int)(seg[i].Id.Prefix >> shift)]++] = seg[i];
        for (var b = buckets; b > 0; b--) directory[b] = directory[b - 1];
        directory[0] = 0;

        // Sort each bucket on its own (stable, so one id's locations keep their order) and drop repeated locations,
        // moving entries down over the dropped ones and rewriting the directory as the buckets move.
        uint write = 0, start = 0;
        var distinct = 0;
        for (var b = 0; b < buckets; b++)
        {
            var end = directory[b + 1];
            for (var i = (int)start + 1; i < end; i++)
            {
                var e = entries[i];
                var j = i - 1;
                while (j >= start && entries[j].Id.CompareTo(e.Id) > 0)
                {
                    entries[j + 1] = entries[j];
                    j--;
                }
                entries[j + 1] = e;
            }
            var bucketStart = write;
            directory[b] = bucketStart;
            for (var i = start; i < end; i++)
            {
                var e = entries[i];
                var repeated = false;
                var k = (int)write - 1;
                for (; k >= bucketStart && entries[k].Id == e.Id; k--)
                    if (entries[k].SameLocation(e)) { repeated = true; break; }
                if (repeated) continue;
                if (write == bucketStart || entries[write - 1].Id != e.Id) distinct++;
                entries[write++] = e;
            }
            start = end;
        }
        directory[buckets] = write;
        return new BlobTable(entries, (int)write, directory, shift, distinct);
    }
}
