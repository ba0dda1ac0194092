namespace Portal.Engine.Chunking;

/// <summary>
/// Cuts a stream into content-defined chunks with one reusable buffer of twice the maximum chunk size, so memory
/// stays bounded whatever the file size. The cut is resumable, so the buffer is refilled only when the scan reaches
/// its end, and then only the chunk in progress moves to the front (not a whole maximum chunk of look-ahead). Each
/// returned chunk is valid until the next call.
/// </summary>
internal sealed class ChunkStream(FastCdc cdc, byte[] buffer)
{
    private int _start, _end;
    private bool _eof;
    private CutState _state;
    private Stream? _stream;

    public static int BufferSize(ChunkerParams p) => p.Max * 2;

    /// <summary>The buffer, for a caller that reads a file without cutting it (nothing is in progress between files).</summary>
    public byte[] Buffer => buffer;

    public void Reset(Stream stream)
    {
        _stream = stream;
        _start = _end = 0;
        _eof = false;
        _state = default;
    }

    /// <summary>
    /// The next chunk, or an empty memory at the end of the stream. Reads synchronously: the callers are
    /// dedicated reader workers, and an asynchronous read of a regular file is a thread-pool hop per read.
    /// </summary>
    public ReadOnlyMemory<byte> Next(CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        while (true)
        {
            if (_start < _end)
            {
                var length = cdc.Cut(buffer.AsSpan(_start, _end - _start), _eof, ref _state);
                if (length > 0)
                {
                    var chunk = buffer.AsMemory(_start, length);
                    _start += length;
                    _state = default;
                    return chunk;
                }
            }
            if (_eof) return ReadOnlyMemory<byte>.Empty;
            Fill();
        }
    }

    private void Fill()
    {
        if (_start > 0)
        {
            System.Buffer.BlockCopy(buffer, _start, buffer, 0, _end - _start);
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
}
