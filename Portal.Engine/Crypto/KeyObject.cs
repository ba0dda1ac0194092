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

    /// <summary>
    /// The ranges a key object's cost must lie in, for writing and for reading: wide enough for any sane setting (the
    /// default is 19 MiB and 2 passes), narrow enough that a hostile key object cannot make every open allocate
    /// gigabytes or run for minutes (it is skipped before any work).
    /// </summary>
    public const int MinMemoryKiB = 1024, MaxMemoryKiB = 512 * 1024, MaxIterations = 10, MaxParallelism = 16;

    /// <summary>What is wrong with these parameters in plain words, or null when they are in range.</summary>
    public string? Problem() => Problem(MemoryKiB, Iterations, Parallelism);

    internal static string? Problem(int memoryKiB, int iterations, int parallelism) =>
        memoryKiB is < MinMemoryKiB or > MaxMemoryKiB
            ? $"its key derivation asks for {Size(memoryKiB)} of memory (allowed: {Size(MinMemoryKiB)} to {Size(MaxMemoryKiB)})"
        : iterations is < 1 or > MaxIterations
            ? $"its key derivation asks for {iterations} passes (allowed: 1 to {MaxIterations})"
        : parallelism is < 1 or > MaxParallelism
            ? $"its key derivation asks for {parallelism} lanes (allowed: 1 to {MaxParallelism})"
        : null;

    private static string Size(long kib) => kib >= 1024 && kib % 1024 == 0 ? $"{kib / 1024} MiB" : $"{kib} KiB";
}

/// <summary>
/// The stored, plaintext JSON key object <c>keys/&lt;sha256&gt;</c>: Argon2id(passphrase, salt) gives a key
/// that wraps the master key with AES-256-GCM. Neither the passphrase nor the master key is in it.
/// </summary>
internal sealed class KeyObject
{
    public const int MinPassphraseLength = PassphraseRules.MinLength;
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
        if (PassphraseRules.Problem(passphrase) is { } problem)
            throw new ArgumentException(problem, nameof(passphrase));
    }

    public static KeyObject Create(MasterKey master, string passphrase, KdfParameters kdf, DateTimeOffset now)
    {
        ValidatePassphrase(passphrase);
        if (kdf.Problem() is { } problem)
            throw new ArgumentException($"The key derivation settings are out of range: {problem.Replace("its key derivation asks", "they ask", StringComparison.Ordinal)}.", nameof(kdf));
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

    /// <summary>
    /// What makes this key object unusable, in plain words (an unknown version or algorithm, a cost out of
    /// <see cref="KdfParameters"/>' ranges, a salt, nonce or wrapped key of the wrong form), or null when it can be tried.
    /// Cheap: checked before the key derivation, so a hostile key object costs nothing.
    /// </summary>
    public string? Problem()
    {
        if (Version != 1 || Kdf != "argon2id" || Wrap != "aes-256-gcm")
            return $"it is a key of format {Version} ({Kdf}, {Wrap}), which this version does not know";
        if (KdfParameters.Problem(MemoryKiB, Iterations, Parallelism) is { } cost) return cost;
        if (Decoded(Salt) is not { Length: >= 8 and <= 64 }) return "its salt is missing or malformed";
        if (Decoded(Nonce) is not { Length: Sealer.NonceSize }) return "its nonce is missing or malformed";
        if (Decoded(WrappedKey) is not { Length: MasterKey.Length + Sealer.TagSize }) return "its wrapped key is missing or malformed";
        return null;
    }

    private static byte[]? Decoded(string? base64)
    {
        if (base64 is null || base64.Length > 256) return null;
        var bytes = new byte[base64.Length];
        return Convert.TryFromBase64String(base64, bytes, out var n) ? bytes[..n] : null;
    }

    /// <summary>
    /// Unwraps the master key, or returns null if the passphrase does not open this key object. Throws
    /// <see cref="InvalidDataException"/> (plain words) when <see cref="Problem"/> finds it unusable.
    /// </summary>
    public MasterKey? TryOpen(string passphrase)
    {
        if (Problem() is { } problem) throw new InvalidDataException($"This key object cannot be used: {problem}.");
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
