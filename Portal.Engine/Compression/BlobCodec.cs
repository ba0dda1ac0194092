using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using Portal.Engine.Crypto;
using ZstdSharp;

namespace Portal.Engine.Compression;

/// <summary>
/// Turns plaintext into sealed bytes and back: zstd unless it does not shrink the data, then AES-256-GCM.
/// The plaintext inside the seal starts with a compression id: <c>0</c> = none, <c>1</c> = zstd followed by
/// the 4-byte little-endian uncompressed length. Readers pick the decompressor by that stored id.
/// </summary>
internal static class BlobCodec
{
    public const byte None = 0, Zstd = 1;
    public const int Level = 3;
    private const int SampleSize = 64 * 1024;
    [ThreadStatic] private static Compressor? t_compressor;
    [ThreadStatic] private static Decompressor? t_decompressor;

    private static Compressor Compressor => t_compressor ??= new Compressor(Level);
    private static Decompressor Decompressor => t_decompressor ??= new Decompressor();

    /// <summary>Compresses (when worth it) and seals. Returns the sealed bytes and the stored length.</summary>
    public static byte[] Encode(MasterKey key, ReadOnlySpan<byte> plain, ReadOnlySpan<byte> aad)
    {
        var bound = Compressor.GetCompressBound(plain.Length) + 5;
        var rented = ArrayPool<byte>.Shared.Rent(Math.Max(bound, plain.Length + 1));
        try
        {
            var body = rented.AsSpan();
            var length = 0;
            if (WorthCompressing(plain))
            {
                var n = Compressor.Wrap(plain, body[5..]);
                if (n + 5 < plain.Length + 1)
                {
                    body[0] = Zstd;
                    BinaryPrimitives.WriteInt32LittleEndian(body[1..], plain.Length);
                    length = n + 5;
                }
            }
            if (length == 0)
            {
                body[0] = None;
                plain.CopyTo(body[1..]);
                length = plain.Length + 1;
            }
            return Sealer.Seal(key, body[..length], aad);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Opens and decompresses. Throws <see cref="CryptographicException"/> or <see cref="InvalidDataException"/> on damage.</summary>
    public static byte[] Decode(MasterKey key, ReadOnlySpan<byte> sealedBytes, ReadOnlySpan<byte> aad)
    {
        var body = Sealer.Open(key, sealedBytes, aad);
        if (body.Length == 0) throw new InvalidDataException("Empty blob body.");
        switch (body[0])
        {
            case None:
                return body.AsSpan(1).ToArray();
            case Zstd:
                var rawLength = BinaryPrimitives.ReadInt32LittleEndian(body.AsSpan(1));
                if (rawLength is < 0 or > 256 * 1024 * 1024) throw new InvalidDataException("Bad uncompressed length.");
                var raw = GC.AllocateUninitializedArray<byte>(rawLength);
                int written;
                try { written = Decompressor.Unwrap(body.AsSpan(5), raw); }
                catch (ZstdException e) { throw new InvalidDataException("Corrupt zstd data.", e); }
                if (written != rawLength) throw new InvalidDataException("Uncompressed length mismatch.");
                return raw;
            default:
                throw new InvalidDataException($"Unknown compression id {body[0]}.");
        }
    }

    /// <summary>Large inputs are judged by a compressed sample first, so incompressible data costs little.</summary>
    private static bool WorthCompressing(ReadOnlySpan<byte> plain)
    {
        if (plain.Length < 64) return false;
        if (plain.Length <= SampleSize * 2) return true;
        var sample = plain.Slice(plain.Length / 2 - SampleSize / 2, SampleSize);
        var rented = ArrayPool<byte>.Shared.Rent(Compressor.GetCompressBound(SampleSize));
        try
        {
            var n = Compressor.Wrap(sample, rented);
            return n < SampleSize * 0.97;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
