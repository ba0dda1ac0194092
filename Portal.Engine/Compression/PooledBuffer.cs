using System.Buffers;

namespace Portal.Engine.Compression;

/// <summary>
/// A rented array and the length in use. Chunk-sized buffers are rented, not allocated: they are larger
/// than the large-object threshold, and fresh ones per chunk cost page faults and full collections.
/// Dispose exactly once.
/// </summary>
internal readonly struct PooledBuffer(byte[] array, int length) : IDisposable
{
    /// <summary>
    /// One shared pool with a small fixed number of arrays per size: ArrayPool.Shared keeps up to eight per
    /// size per core plus one per thread, which for megabyte buffers is a lot of resident memory.
    /// </summary>
    public static readonly ArrayPool<byte> Pool = ArrayPool<byte>.Create(maxArrayLength: MaxPooledLength, maxArraysPerBucket: 6);

    public byte[] Array { get; } = array;
    public int Length { get; } = length;
    public ReadOnlySpan<byte> Span => Array.AsSpan(0, Length);
    public ReadOnlyMemory<byte> Memory => Array.AsMemory(0, Length);

    public static PooledBuffer Rent(int length) => new(Pool.Rent(length), length);

    public void Dispose() => Pool.Return(Array);

    /// <summary>
    /// The bytes as an exact-size array, and the buffer given up (do not dispose it after). An array larger than the pool
    /// keeps (over 4 MiB: a folder's tree of tens of thousands of entries) was allocated at exactly the length asked for,
    /// so it is handed over as it is instead of copied: restoring one folder of 200,000 files held its 56 MB tree twice.
    /// </summary>
    public byte[] ToExactArray()
    {
        if (Array.Length == Length && Length > MaxPooledLength) return Array;
        var copy = Span.ToArray();
        Dispose();
        return copy;
    }

    private const int MaxPooledLength = 4 * 1024 * 1024;
}
