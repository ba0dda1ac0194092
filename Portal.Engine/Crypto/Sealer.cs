using System.Security.Cryptography;

namespace Portal.Engine.Crypto;

/// <summary>
/// AES-256-GCM sealing of one blob or object. Layout: <c>[format 1][aead id 1][nonce 12][ciphertext][tag 16]</c>.
/// The associated data binds the sealed bytes to what they are (a blob's type and id, or an object kind),
/// so a valid ciphertext moved to another place fails to open.
/// </summary>
internal static class Sealer
{
    public const byte FormatVersion = 1;
    public const byte AeadAes256Gcm = 1; // "aes-256-gcm" in the repository config
    public const int NonceSize = 12, TagSize = 16, HeaderSize = 2 + NonceSize;
    public const int Overhead = HeaderSize + TagSize;

    /// <summary>Seals <paramref name="plaintext"/> into <paramref name="dest"/> (length plaintext + <see cref="Overhead"/>).</summary>
    public static void Seal(MasterKey key, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> aad, Span<byte> dest)
    {
        dest[0] = FormatVersion;
        dest[1] = AeadAes256Gcm;
        var nonce = dest.Slice(2, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        key.Aes.Encrypt(nonce, plaintext, dest.Slice(HeaderSize, plaintext.Length), dest.Slice(HeaderSize + plaintext.Length, TagSize), aad);
    }

    /// <summary>
    /// Seals in place: the plaintext is already at <c>dest[HeaderSize..HeaderSize + length]</c>; the header goes in
    /// front, the tag after it. Returns the sealed length (<paramref name="length"/> + <see cref="Overhead"/>).
    /// </summary>
    public static int SealInPlace(MasterKey key, Span<byte> dest, int length, ReadOnlySpan<byte> aad)
    {
        dest[0] = FormatVersion;
        dest[1] = AeadAes256Gcm;
        var nonce = dest.Slice(2, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        var body = dest.Slice(HeaderSize, length);
        key.Aes.Encrypt(nonce, body, body, dest.Slice(HeaderSize + length, TagSize), aad);
        return length + Overhead;
    }

    public static byte[] Seal(MasterKey key, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> aad)
    {
        var dest = GC.AllocateUninitializedArray<byte>(plaintext.Length + Overhead);
        Seal(key, plaintext, aad, dest);
        return dest;
    }

    /// <summary>Opens sealed bytes; throws <see cref="CryptographicException"/> if they were altered or are unknown.</summary>
    public static byte[] Open(MasterKey key, ReadOnlySpan<byte> sealedBytes, ReadOnlySpan<byte> aad)
    {
        if (sealedBytes.Length < Overhead) throw new CryptographicException("Sealed data is too short.");
        var plain = GC.AllocateUninitializedArray<byte>(sealedBytes.Length - Overhead);
        Open(key, sealedBytes, aad, plain);
        return plain;
    }

    /// <summary>Opens into <paramref name="plain"/>, which is exactly <c>sealedBytes.Length - Overhead</c> long.</summary>
    public static void Open(MasterKey key, ReadOnlySpan<byte> sealedBytes, ReadOnlySpan<byte> aad, Span<byte> plain)
    {
        if (sealedBytes.Length < Overhead) throw new CryptographicException("Sealed data is too short.");
        if (sealedBytes[0] != FormatVersion) throw new CryptographicException($"Unknown sealing format {sealedBytes[0]}.");
        if (sealedBytes[1] != AeadAes256Gcm) throw new CryptographicException($"Unknown cipher id {sealedBytes[1]}.");
        var ctLength = sealedBytes.Length - Overhead;
        key.Aes.Decrypt(sealedBytes.Slice(2, NonceSize), sealedBytes.Slice(HeaderSize, ctLength),
            sealedBytes.Slice(HeaderSize + ctLength, TagSize), plain, aad);
    }
}
