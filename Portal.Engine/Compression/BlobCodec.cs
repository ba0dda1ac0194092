using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using Portal.Engine.Crypto;

namespace Portal.Engine.Compression;

/// <summary>
/// Turns plaintext into sealed bytes and back: zstd unless it does not shrink the data, then AES-256-GCM.
/// The plaintext inside the seal starts with a compression id: <c>0</c> = none, <c>1</c> = zstd followed by
/// the 4-byte little-endian uncompressed length. Readers pick the decompressor by that stored id.
/// </summary>
internal static class BlobCodec
{
    public const byte None = 0, Zstd = 1;
    /// <summary>
    /// The zstd level of data chunks (see <see cref="DefaultLevel"/>). Not part of the format: any level decompresses the
    /// same way, so readers never need it. <c>PORTAL_ZSTD_LEVEL</c> overrides it for benchmarks (A/B of levels).
    /// </summary>
    public static readonly int Level = LevelFrom("PORTAL_ZSTD_LEVEL", DefaultLevel);

    /// <summary>The zstd level of trees (see <see cref="DefaultTreeLevel"/>); <c>PORTAL_ZSTD_TREE_LEVEL</c> overrides it.</summary>
    public static readonly int TreeLevel = LevelFrom("PORTAL_ZSTD_TREE_LEVEL", DefaultTreeLevel);

    /// <summary>
    /// zstd level 6. restic stores at klauspost's "default" speed (about zstd level 3); on a real software upgrade
    /// (bench/make-upgrade-dataset.sh, node_modules of 38,000 files) the data chunks sealed 107.9 MiB at level 1,
    /// 103.3 at 3, 99.2 at 5, 96.9 at 6 and 95.6 at 9 (`Portal.Bench levels`): level 6 is where the size stops falling
    /// and what takes the repository to 0.96 of restic's there and on the 100,000-file scale set (1.07 and 1.02 at level
    /// 1). It costs first backups CPU: 6.8 -> 8.6-9.3 CPU-s on the upgrade's G1 (borg 18, restic 20), 7.9 -> 15.5 on
    /// the 100,000 small files, +2.8 on the synthetic G1 (which it shrinks by only 0.3 %). bench/README.md, session 16.
    /// </summary>
    public const int DefaultLevel = 6;

    /// <summary>Trees (JSON listings, a few percent of a repository) are compressed at this level.</summary>
    public const int DefaultTreeLevel = 1;

    private const int SampleSlice = 2 * 1024, SampledAbove = 32 * 1024;

    /// <summary>Data chunks are compressed in frames of at most this size (see <see cref="CompressFrames"/>).</summary>
    public const int FrameSize = 128 * 1024;

    /// <summary>Compresses (when worth it) and seals into an exact-size array.</summary>
    public static byte[] Encode(MasterKey key, ReadOnlySpan<byte> plain, ReadOnlySpan<byte> aad)
    {
        using var pooled = EncodePooled(key, plain, aad);
        return pooled.Span.ToArray();
    }

    /// <summary>
    /// Compresses and seals bytes given in pieces (a large tree, <see cref="SegmentedBuffer"/>) into an exact-size
    /// array without ever holding them in one piece: each piece becomes one zstd frame, and the frames follow each
    /// other in the body (zstd decompresses concatenated frames as one: readers need nothing new). When that does not
    /// shrink them, they are stored uncompressed.
    /// </summary>
    public static byte[] Encode(MasterKey key, IReadOnlyList<ReadOnlyMemory<byte>> parts, ReadOnlySpan<byte> aad)
    {
        if (parts.Count == 1)
        {
            using var pooled = EncodePooled(key, parts[0].Span, aad, TreeLevel);
            return pooled.Span.ToArray();
        }
        long plainLength = 0;
        foreach (var p in parts) plainLength += p.Length;
        if (plainLength > int.MaxValue - Sealer.Overhead - 5) throw new InvalidDataException($"A blob of {plainLength} bytes is too large to store.");
        var frames = new List<byte[]>(parts.Count);
        long compressed = 0;
        foreach (var part in parts)
        {
            using var frame = PooledBuffer.Rent(ZstdContext.CompressBound(part.Length));
            var n = ZstdContext.Compress(part.Span, frame.Array.AsSpan(0, frame.Length), TreeLevel);
            frames.Add(frame.Array.AsSpan(0, n).ToArray());
            compressed += n;
        }
        var zstd = compressed + 5 < plainLength + 1;
        var bodyLength = (int)(zstd ? compressed + 5 : plainLength + 1);
        var sealedBytes = new byte[bodyLength + Sealer.Overhead];
        var body = sealedBytes.AsSpan(Sealer.HeaderSize, bodyLength);
        body[0] = zstd ? Zstd : None;
        var at = 1;
        if (zstd)
        {
            BinaryPrimitives.WriteInt32LittleEndian(body[1..], (int)plainLength);
            at = 5;
        }
        foreach (var piece in zstd ? frames.Select(f => (ReadOnlyMemory<byte>)f) : parts)
        {
            piece.Span.CopyTo(body[at..]);
            at += piece.Length;
        }
        Sealer.SealInPlace(key, sealedBytes, bodyLength, aad);
        return sealedBytes;
    }

    /// <summary>
    /// Compresses (when worth it) and seals into a rented buffer: the body is compressed (or copied) straight to its
    /// place in the sealed layout and encrypted in place, so one buffer serves both.
    /// </summary>
    public static PooledBuffer EncodePooled(MasterKey key, ReadOnlySpan<byte> plain, ReadOnlySpan<byte> aad) => EncodePooled(key, plain, aad, Level);

    /// <summary>As <see cref="EncodePooled(MasterKey, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/> at a given zstd level (benchmarks compare levels).</summary>
    public static PooledBuffer EncodePooled(MasterKey key, ReadOnlySpan<byte> plain, ReadOnlySpan<byte> aad, int level)
    {
        var bodyRoom = Math.Max(FramesBound(plain.Length) + 5, plain.Length + 1);
        var buffer = PooledBuffer.Pool.Rent(bodyRoom + Sealer.Overhead);
        try
        {
            var b = buffer.AsSpan(Sealer.HeaderSize, bodyRoom);
            var length = 0;
            if (WorthCompressing(plain))
            {
                var n = CompressFrames(plain, b[5..], level);
                if (n + 5 < plain.Length + 1)
                {
                    b[0] = Zstd;
                    BinaryPrimitives.WriteInt32LittleEndian(b[1..], plain.Length);
                    length = n + 5;
                }
            }
            if (length == 0)
            {
                b[0] = None;
                plain.CopyTo(b[1..]);
                length = plain.Length + 1;
            }
            return new PooledBuffer(buffer, Sealer.SealInPlace(key, buffer, length, aad));
        }
        catch
        {
            PooledBuffer.Pool.Return(buffer);
            throw;
        }
    }

    /// <summary>Opens and decompresses into an exact-size array.</summary>
    public static byte[] Decode(MasterKey key, ReadOnlySpan<byte> sealedBytes, ReadOnlySpan<byte> aad) =>
        DecodePooled(key, sealedBytes, aad).ToExactArray();

    /// <summary>Opens and decompresses into a rented buffer. Throws <see cref="CryptographicException"/> or <see cref="InvalidDataException"/> on damage.</summary>
    public static PooledBuffer DecodePooled(MasterKey key, ReadOnlySpan<byte> sealedBytes, ReadOnlySpan<byte> aad)
    {
        if (sealedBytes.Length < Sealer.Overhead + 1) throw new InvalidDataException("Sealed blob too short.");
        using var body = PooledBuffer.Rent(sealedBytes.Length - Sealer.Overhead);
        Sealer.Open(key, sealedBytes, aad, body.Array.AsSpan(0, body.Length));
        var span = body.Span;
        switch (span[0])
        {
            case None:
            {
                var raw = PooledBuffer.Rent(span.Length - 1);
                span[1..].CopyTo(raw.Array);
                return raw;
            }
            case Zstd:
            {
                var rawLength = BinaryPrimitives.ReadInt32LittleEndian(span[1..]);
                if (rawLength is < 0 or > 256 * 1024 * 1024) throw new InvalidDataException("Bad uncompressed length.");
                var raw = PooledBuffer.Rent(rawLength);
                try
                {
                    var written = ZstdContext.Decompress(span[5..], raw.Array.AsSpan(0, rawLength));
                    if (written != rawLength) throw new InvalidDataException("Uncompressed length mismatch.");
                    return raw;
                }
                catch
                {
                    raw.Dispose();
                    throw;
                }
            }
            default:
                throw new InvalidDataException($"Unknown compression id {span[0]}.");
        }
    }

    /// <summary>
    /// Inputs over 32 KiB are judged by compressing a sample first (four 2 KiB slices spread evenly), so
    /// incompressible data costs little while partly compressible chunks (a disk image's zero runs between random
    /// blocks) are still compressed. Measured on the benchmark data (`Portal.Bench probe`): the same stored size as
    /// eight 8 KiB slices, and a quarter less time to compress and seal the random and the disk image parts.
    /// </summary>
    /// <summary>
    /// Compresses <paramref name="plain"/> as frames of at most <see cref="FrameSize"/> bytes, one after another (zstd
    /// reads concatenated frames as one: readers need nothing new). zstd sizes a context's tables by the input, so at
    /// level 6 a 512 KiB chunk in one frame took a context of several MiB, held by every pooled context: a first backup
    /// of the node_modules upgrade peaked at 125-130 MB against 109 MB at level 1 (bench/README.md, session 16).
    /// </summary>
    private static int CompressFrames(ReadOnlySpan<byte> plain, Span<byte> destination, int level)
    {
        if (plain.Length <= FrameSize) return ZstdContext.Compress(plain, destination, level);
        var written = 0;
        for (var at = 0; at < plain.Length; at += FrameSize)
            written += ZstdContext.Compress(plain.Slice(at, Math.Min(FrameSize, plain.Length - at)), destination[written..], level);
        return written;
    }

    /// <summary>The largest output of <see cref="CompressFrames"/> for <paramref name="length"/> bytes.</summary>
    private static int FramesBound(int length) =>
        length <= FrameSize ? ZstdContext.CompressBound(length)
        : length / FrameSize * ZstdContext.CompressBound(FrameSize) + ZstdContext.CompressBound(length % FrameSize);

    private static int LevelFrom(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), out var level) && level is >= 1 and <= 22 ? level : fallback;

    private static bool WorthCompressing(ReadOnlySpan<byte> plain)
    {
        if (plain.Length < 64) return false;
        if (plain.Length <= SampledAbove) return true;
        var slices = Math.Min(4, plain.Length / SampleSlice);
        var sample = ArrayPool<byte>.Shared.Rent(slices * SampleSlice);
        var output = ArrayPool<byte>.Shared.Rent(ZstdContext.CompressBound(slices * SampleSlice));
        try
        {
            var step = (plain.Length - SampleSlice) / Math.Max(1, slices - 1);
            for (var i = 0; i < slices; i++) plain.Slice(i * step, SampleSlice).CopyTo(sample.AsSpan(i * SampleSlice));
            var n = ZstdContext.Compress(sample.AsSpan(0, slices * SampleSlice), output, 1); // a test of compressibility: the fastest level
            return n < slices * SampleSlice * 0.97;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(sample);
            ArrayPool<byte>.Shared.Return(output);
        }
    }
}
