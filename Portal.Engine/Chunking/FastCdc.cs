using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Portal.Engine.Chunking;

/// <summary>Chunk size limits of content-defined chunking, stored in the repository config.</summary>
/// <param name="Min">No cut before this many bytes.</param>
/// <param name="Avg">Target average (a power of two).</param>
/// <param name="Max">Always cut here.</param>
internal sealed record ChunkerParams(int Min, int Avg, int Max)
{
    /// <summary>16 KiB / 64 KiB / 512 KiB, chosen by the peer benchmark: see docs/repository-format.md.</summary>
    public static ChunkerParams Default { get; } = new(16 * 1024, 64 * 1024, 512 * 1024);

    public void Validate()
    {
        if (Min < 64 || Min >= Avg || Avg >= Max || !BitOperations.IsPow2(Avg) || Max > 64 * 1024 * 1024)
            throw new NotSupportedException($"Unsupported chunker parameters {Min}/{Avg}/{Max}.");
    }
}

/// <summary>
/// FastCDC (Xia et al., 2016/2020) with normalized chunking level 2 over a 64-bit gear hash. The gear
/// table is derived from the master key, so chunk boundaries (and thus sizes) do not reveal content.
/// The mask tests the high bits, which depend on the last 64 bytes, not only the last few.
/// </summary>
internal sealed class FastCdc
{
    private readonly ulong[] _gear;
    private readonly ulong _maskS, _maskL;

    public FastCdc(ulong[] gear, ChunkerParams p)
    {
        p.Validate();
        if (gear.Length != 256) throw new ArgumentException("The gear table has 256 entries.", nameof(gear));
        _gear = gear;
        Params = p;
        var bits = BitOperations.Log2((uint)p.Avg);
        _maskS = ~0UL << (64 - (bits + 2)); // harder to match before the average size
        _maskL = ~0UL << (64 - (bits - 2)); // easier after it
    }

    public ChunkerParams Params { get; }

    /// <summary>
    /// Length of the next chunk at the start of <paramref name="data"/>. The caller passes at least
    /// <see cref="ChunkerParams.Max"/> bytes unless the data ends sooner.
    /// </summary>
    public int Cut(ReadOnlySpan<byte> data)
    {
        var state = default(CutState);
        return Cut(data, final: true, ref state);
    }

    /// <summary>
    /// Resumable form: <paramref name="data"/> is the chunk so far (from its first byte) and <paramref name="state"/>
    /// remembers how far an earlier call scanned. Returns the chunk's length, or 0 when no cut point lies in the
    /// bytes given and more may come (<paramref name="final"/> false and fewer than <see cref="ChunkerParams.Max"/>
    /// bytes): call again with the same start and more bytes. Cut points are exactly those of <see cref="Cut(ReadOnlySpan{byte})"/>
    /// with all the data at once, so a reader never has to keep a whole maximum chunk ahead of the cut.
    /// </summary>
    public int Cut(ReadOnlySpan<byte> data, bool final, ref CutState state)
    {
        var p = Params;
        var n = Math.Min(data.Length, p.Max);
        var complete = final || data.Length >= p.Max; // every byte a cut may depend on is here
        if (n <= p.Min) return complete ? n : 0;
        // Bounds are checked above; the loops index without checks and test four bytes per round (the hot path of
        // every backup: a quarter of the loop overhead). Cut points are exactly those of the one-byte loop.
        ref var src = ref MemoryMarshal.GetReference(data);
        ref var gear = ref MemoryMarshal.GetArrayDataReference(_gear);
        var hash = state.Hash;
        var i = Math.Max(state.Position, p.Min);
        var cut = Scan(ref src, ref gear, ref hash, ref i, Math.Min(p.Avg, n), _maskS);
        if (cut == 0) cut = Scan(ref src, ref gear, ref hash, ref i, n, _maskL);
        if (cut > 0) return cut;
        if (complete) return n;
        state = new CutState(hash, i);
        return 0;
    }

    /// <summary>Rolls the hash over [i, end); returns the cut length at the first match, or 0 with i = end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Scan(ref byte src, ref ulong gear, ref ulong hash, ref int i, int end, ulong mask)
    {
        var h = hash;
        var k = i;
        if (k >= end) return 0;
        for (; k + 4 <= end; k += 4)
        {
            h = (h << 1) + Unsafe.Add(ref gear, Unsafe.Add(ref src, k));
            if ((h & mask) == 0) return k + 1;
            h = (h << 1) + Unsafe.Add(ref gear, Unsafe.Add(ref src, k + 1));
            if ((h & mask) == 0) return k + 2;
            h = (h << 1) + Unsafe.Add(ref gear, Unsafe.Add(ref src, k + 2));
            if ((h & mask) == 0) return k + 3;
            h = (h << 1) + Unsafe.Add(ref gear, Unsafe.Add(ref src, k + 3));
            if ((h & mask) == 0) return k + 4;
        }
        for (; k < end; k++)
        {
            h = (h << 1) + Unsafe.Add(ref gear, Unsafe.Add(ref src, k));
            if ((h & mask) == 0) return k + 1;
        }
        hash = h;
        i = k;
        return 0;
    }
}

/// <summary>Where a resumable <see cref="FastCdc.Cut(ReadOnlySpan{byte}, bool, ref CutState)"/> stopped: default for a new chunk.</summary>
internal readonly record struct CutState(ulong Hash, int Position);
