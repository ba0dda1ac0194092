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
        var n = data.Length;
        if (n <= Params.Min) return n;
        if (n > Params.Max) n = Params.Max;
        var normal = Math.Min(Params.Avg, n);
        // Bounds are checked above; the loops index without checks (the hot path of every backup).
        ref var src = ref MemoryMarshal.GetReference(data);
        ref var gear = ref MemoryMarshal.GetArrayDataReference(_gear);
        ulong hash = 0, maskS = _maskS, maskL = _maskL;
        var i = Params.Min;
        for (; i < normal; i++)
        {
            hash = (hash << 1) + Unsafe.Add(ref gear, Unsafe.Add(ref src, i));
            if ((hash & maskS) == 0) return i + 1;
        }
        for (; i < n; i++)
        {
            hash = (hash << 1) + Unsafe.Add(ref gear, Unsafe.Add(ref src, i));
            if ((hash & maskL) == 0) return i + 1;
        }
        return n;
    }
}
