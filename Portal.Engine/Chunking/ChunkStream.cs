namespace Portal.Engine.Chunking;

/// <summary>
/// Cuts a stream into content-defined chunks with one reusable buffer of twice the maximum chunk size,
/// so memory stays bounded whatever the file size. Each returned chunk is valid until the next call.
/// </summary>
internal sealed class ChunkStream(FastCdc cdc, byte[] buffer)
{
    private int _start, _end;
    private bool _eof;
    private Stream? _stream;

    public static int BufferSize(ChunkerParams p) => p.Max * 2;

    public void Reset(Stream stream)
    {
        _stream = stream;
        _start = _end = 0;
        _eof = false;
    }

    /// <summary>
    /// The next chunk, or an empty memory at the end of the stream. Reads synchronously: the callers are
    /// dedicated reader workers, and an asynchronous read of a regular file is a thread-pool hop per read.
    /// </summary>
    public ReadOnlyMemory<byte> Next(CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var max = cdc.Params.Max;
        if (!_eof && _end - _start < max)
        {
            if (_start > 0)
            {
                Buffer.BlockCopy(buffer, _start, buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            while (!_eof && _end < buffer.Length)
            {
                var n = _stream!.Read(buffer, _end, buffer.Length - _end);
                if (n == 0) _eof = true;
                _end += n;
            }
        }
        if (_start == _end) return ReadOnlyMemory<byte>.Empty;
        var length = cdc.Cut(buffer.AsSpan(_start, _end - _start));
        var chunk = buffer.AsMemory(_start, length);
        _start += length;
        return chunk;
    }
}
