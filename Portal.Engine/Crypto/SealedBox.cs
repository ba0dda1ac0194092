using System.Security.Cryptography;
using System.Text;

namespace Portal.Engine.Crypto;

/// <summary>
/// Seals a small secret (a repository key) to a P-256 public key, so that only the holder of the private key can open
/// it: an ephemeral ECDH key agreement, HKDF-SHA256 of the shared secret into an AES-256-GCM key, and the secret
/// sealed with it. Layout: version byte 1, the ephemeral public key (SubjectPublicKeyInfo, length-prefixed with one
/// byte), a 12-byte nonce, the ciphertext and its 16-byte tag. The context binds a box to its purpose
/// (a box sealed for one repository cannot be passed off for another).
/// </summary>
public static class SealedBox
{
    private const byte Version = 1;

    /// <summary>Seals <paramref name="secret"/> to <paramref name="recipientPublicKey"/> (SubjectPublicKeyInfo of a P-256 key).</summary>
    public static byte[] Seal(ReadOnlySpan<byte> recipientPublicKey, ReadOnlySpan<byte> secret, string context)
    {
        using var recipient = ECDiffieHellman.Create();
        recipient.ImportSubjectPublicKeyInfo(recipientPublicKey, out _);
        using var ephemeral = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var ephemeralPublic = ephemeral.ExportSubjectPublicKeyInfo();
        var key = DeriveKey(ephemeral, recipient.PublicKey, ephemeralPublic, context);
        try
        {
            var box = new byte[2 + ephemeralPublic.Length + Sealer.NonceSize + secret.Length + Sealer.TagSize];
            box[0] = Version;
            box[1] = checked((byte)ephemeralPublic.Length);
            ephemeralPublic.CopyTo(box, 2);
            var nonce = box.AsSpan(2 + ephemeralPublic.Length, Sealer.NonceSize);
            RandomNumberGenerator.Fill(nonce);
            var cipher = box.AsSpan(2 + ephemeralPublic.Length + Sealer.NonceSize, secret.Length);
            var tag = box.AsSpan(box.Length - Sealer.TagSize);
            using var aes = new AesGcm(key, Sealer.TagSize);
            aes.Encrypt(nonce, secret, cipher, tag, Encoding.UTF8.GetBytes(context));
            return box;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Opens a box sealed to <paramref name="recipient"/>'s public key; throws <see cref="CryptographicException"/> when it is not one.</summary>
    public static byte[] Open(ECDiffieHellman recipient, ReadOnlySpan<byte> box, string context)
    {
        if (box.Length < 2 || box[0] != Version || box.Length < 2 + box[1] + Sealer.NonceSize + Sealer.TagSize)
            throw new CryptographicException("The sealed box is malformed.");
        var publicLength = box[1];
        using var ephemeral = ECDiffieHellman.Create();
        ephemeral.ImportSubjectPublicKeyInfo(box.Slice(2, publicLength), out _);
        var key = DeriveKey(recipient, ephemeral.PublicKey, box.Slice(2, publicLength).ToArray(), context);
        try
        {
            var nonce = box.Slice(2 + publicLength, Sealer.NonceSize);
            var cipher = box.Slice(2 + publicLength + Sealer.NonceSize, box.Length - 2 - publicLength - Sealer.NonceSize - Sealer.TagSize);
            var secret = new byte[cipher.Length];
            using var aes = new AesGcm(key, Sealer.TagSize);
            aes.Decrypt(nonce, cipher, box[^Sealer.TagSize..], secret, Encoding.UTF8.GetBytes(context));
            return secret;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    private static byte[] DeriveKey(ECDiffieHellman own, ECDiffieHellmanPublicKey other, byte[] ephemeralPublic, string context)
    {
        var shared = own.DeriveRawSecretAgreement(other);
        try
        {
            return HKDF.DeriveKey(HashAlgorithmName.SHA256, shared, 32, salt: ephemeralPublic, info: Encoding.UTF8.GetBytes("portal/sealed-box/v1/" + context));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(shared);
        }
    }
}
