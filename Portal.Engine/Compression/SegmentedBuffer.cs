using System.Buffers;

namespace Portal.Engine.Compression;

/// <summary>
/// Bytes written in segments of up to <see cref="MaxSegment"/> (an <see cref="IBufferWriter{T}"/> that grows without
/// copying what it holds): the tree of a folder of 200,000 entries is about 56 MB of JSON, which a doubling buffer
/// held up to three times over while growing. The first segment grows by doubling up to that size, so a tree of an
/// ordinary folder stays in one piece.
/// </summary>
internal sealed class SegmentedBuffer : IBufferWriter<byte>
{
    internal const int MaxSegment = 1 << 20;
    private readonly List<ReadOnlyMemory<byte>> _full = [];
    private byte[] _current = new byte[1024];
    private int _used;
    private long _fullLength;

    /// <summary>Bytes written.</summary>
    public long Length => _fullLength + _used;

    /// <summary>The bytes written, in order: one piece unless they outgrew the first segment.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Segments => _full.Count == 0 ? [_current.AsMemory(0, _used)] : [.. _full, _current.AsMemory(0, _used)];

    public byte[] ToArray()
    {
        var all = new byte[Length];
        var at = 0;
        foreach (var s in Segments)
        {
            s.Span.CopyTo(all.AsSpan(at));
            at += s.Length;
        }
        return all;
    }

    public void Advance(int count)
    {
        if (count < 0 || _used + count > _current.Length) throw new ArgumentOutOfRangeException(nameof(count));
        _used += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _current.AsMemory(_used);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _current.AsSpan(_used);
    }

    private void Ensure(int sizeHint)
    {
        sizeHint = Math.Max(sizeHint, 1);
        if (_current.Length - _used >= sizeHint) return;
        if (_full.Count == 0 && _used + sizeHint <= MaxSegment)
        {
            var grown = new byte[Math.Min(MaxSegment, Math.Max(_current.Length * 2, _used + sizeHint))];
            _current.AsSpan(0, _used).CopyTo(grown);
            _current = grown;
            return;
        }
        _full.Add(_current.AsMemory(0, _used));
        _fullLength += _used;
        _current = new byte[Math.Max(sizeHint, MaxSegment)];
        _used = 0;
    }
}
