using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Portal.Features.Machines.Administration;

/// <summary>
/// The one-time secret of a credentials file: 32 random bytes written as base64url. The portal keeps only
/// <see cref="Hash"/> of it (SHA-256 of the secret's UTF-8 text, exactly as it is in the file), never the secret.
/// </summary>
public static class MachineCredentialSecret
{
    /// <summary>How many random bytes a secret has.</summary>
    public const int Bytes = 32;

    /// <summary>A new secret (base64url, no padding).</summary>
    public static string Create() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(Bytes));

    /// <summary>SHA-256 of the secret's UTF-8 text: what <see cref="MachineCredential.SecretHash"/> holds.</summary>
    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    /// <summary>Whether <paramref name="secret"/> is the one whose hash is <paramref name="storedHash"/> (constant time).</summary>
    public static bool Matches(string secret, byte[] storedHash) => CryptographicOperations.FixedTimeEquals(Hash(secret), storedHash);
}
