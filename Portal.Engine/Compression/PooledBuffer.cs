using System.Buffers;

namespace Portal.Engine.Compression;

/// <summary>
/// A rented array and the length in use. Chunk-sized buffers are rented, not allocated: they are larger
/// than the large-object threshold, and fresh ones per chunk cost page faults and full collections.
/// Dispose exactly once.
/// </summary>
internal readonly struct PooledBuffer(byte[] array, int length) : IDisposable
{
    public byte[] Array { get; } = array;
    public int Length { get; } = length;
    public ReadOnlySpan<byte> Span => Array.AsSpan(0, Length);
    public ReadOnlyMemory<byte> Memory => Array.AsMemory(0, Length);

    public static PooledBuffer Rent(int length) => new(ArrayPool<byte>.Shared.Rent(length), length);

    public void Dispose() => ArrayPool<byte>.Shared.Return(Array);
}
