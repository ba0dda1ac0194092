using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;

namespace Portal.Engine.Crypto;

/// <summary>Argon2id cost parameters, stored in every key object so that a reader uses what was written.</summary>
/// <param name="MemoryKiB">Memory in KiB (default 19456 = 19 MiB, OWASP's Argon2id baseline).</param>
/// <param name="Iterations">Passes over memory (default 2).</param>
/// <param name="Parallelism">Lanes computed in parallel (default 2: the same work as one lane, in half the time on two cores).</param>
public sealed record KdfParameters(int MemoryKiB = 19456, int Iterations = 2, int Parallelism = 2)
{
    /// <summary>The default cost: 19 MiB, 2 passes, 2 lanes.</summary>
    public static KdfParameters Default { get; } = new();
}

/// <summary>
/// The stored, plaintext JSON key object <c>keys/&lt;sha256&gt;</c>: Argon2id(passphrase, salt) gives a key
/// that wraps the master key with AES-256-GCM. Neither the passphrase nor the master key is in it.
/// </summary>
internal sealed class KeyObject
{
    public const int MinPassphraseLength = 16;
    private static readonly byte[] WrapAad = Encoding.ASCII.GetBytes("portal/key/v1");

    [JsonPropertyName("version")] public int Version { get; set; } = 1;
    [JsonPropertyName("kdf")] public string Kdf { get; set; } = "argon2id";
    [JsonPropertyName("memoryKiB")] public int MemoryKiB { get; set; }
    [JsonPropertyName("iterations")] public int Iterations { get; set; }
    [JsonPropertyName("parallelism")] public int Parallelism { get; set; }
    [JsonPropertyName("salt")] public string Salt { get; set; } = "";
    [JsonPropertyName("wrap")] public string Wrap { get; set; } = "aes-256-gcm";
    [JsonPropertyName("nonce")] public string Nonce { get; set; } = "";
    [JsonPropertyName("wrappedKey")] public string WrappedKey { get; set; } = "";
    [JsonPropertyName("created")] public DateTimeOffset Created { get; set; }

    public static void ValidatePassphrase(string passphrase)
    {
        if (passphrase.Length < MinPassphraseLength)
            throw new ArgumentException($"The passphrase must be at least {MinPassphraseLength} characters long.", nameof(passphrase));
    }

    public static KeyObject Create(MasterKey master, string passphrase, KdfParameters kdf, DateTimeOffset now)
    {
        ValidatePassphrase(passphrase);
        var salt = RandomNumberGenerator.GetBytes(16);
        var nonce = RandomNumberGenerator.GetBytes(Sealer.NonceSize);
        var kek = Derive(passphrase, salt, kdf.MemoryKiB, kdf.Iterations, kdf.Parallelism);
        try
        {
            var wrapped = new byte[MasterKey.Length + Sealer.TagSize];
            using (var aes = new AesGcm(kek, Sealer.TagSize))
                aes.Encrypt(nonce, master.Raw, wrapped.AsSpan(0, MasterKey.Length), wrapped.AsSpan(MasterKey.Length), WrapAad);
            return new KeyObject
            {
                MemoryKiB = kdf.MemoryKiB, Iterations = kdf.Iterations, Parallelism = kdf.Parallelism,
                Salt = Convert.ToBase64String(salt), Nonce = Convert.ToBase64String(nonce),
                WrappedKey = Convert.ToBase64String(wrapped), Created = now,
            };
        }
        finally
        {
            CryptographicOperations.ZeroMemory(kek);
        }
    }

    /// <summary>Unwraps the master key, or returns null if the passphrase does not open this key object.</summary>
    public MasterKey? TryOpen(string passphrase)
    {
        if (Version != 1 || Kdf != "argon2id" || Wrap != "aes-256-gcm")
            throw new NotSupportedException($"Key object version {Version} ({Kdf}, {Wrap}) is not supported by this version.");
        var wrapped = Convert.FromBase64String(WrappedKey);
        var kek = Derive(passphrase, Convert.FromBase64String(Salt), MemoryKiB, Iterations, Parallelism);
        try
        {
            var master = new byte[MasterKey.Length];
            using var aes = new AesGcm(kek, Sealer.TagSize);
            aes.Decrypt(Convert.FromBase64String(Nonce), wrapped.AsSpan(0, MasterKey.Length), wrapped.AsSpan(MasterKey.Length), master, WrapAad);
            return new MasterKey(master);
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(kek);
        }
    }

    private static byte[] Derive(string passphrase, byte[] salt, int memoryKiB, int iterations, int parallelism)
    {
        var pass = Encoding.UTF8.GetBytes(passphrase);
        try
        {
            return Argon2.DeriveId(pass, salt, memoryKiB, iterations, parallelism, 32);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pass);
        }
    }
}
