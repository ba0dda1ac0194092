using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Portal.Engine.Agents;

/// <summary>
/// How a registered machine proves who it is on every call to the portal: a short token signed with the machine's
/// private key (ECDSA P-256, SHA-256), which never leaves the machine. The portal keeps only the public key.
/// Format: <c>base64url(json payload) "." base64url(signature over the payload's bytes)</c>; the payload carries the
/// machine's id, the time of signing (valid <see cref="Lifetime"/> either side, for clock skew) and a random nonce.
/// Sent as <c>Authorization: Machine TOKEN</c> (or the SignalR access token).
/// </summary>
public static class MachineToken
{
    /// <summary>The authentication scheme's name in the Authorization header.</summary>
    public const string Scheme = "Machine";

    /// <summary>A token is accepted this long before and after its time of signing.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    /// <summary>Longest token accepted before any parsing (a hostile header costs nothing).</summary>
    public const int MaxLength = 512;

    /// <summary>Signs a token for <paramref name="machineId"/> at <paramref name="now"/>.</summary>
    public static string Create(Guid machineId, ECDsa key, DateTimeOffset now)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(
            new Payload(machineId, now.ToUnixTimeSeconds(), Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(12))), TokenJson.Default.Payload);
        var signature = key.SignData(payload, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return Base64Url.EncodeToString(payload) + "." + Base64Url.EncodeToString(signature);
    }

    /// <summary>
    /// Reads the machine a token claims to come from, without checking it (to find the key to check it with); null for
    /// anything that is not a well-formed token.
    /// </summary>
    public static Guid? ClaimedMachine(string token) => Parse(token)?.Payload.MachineId;

    /// <summary>
    /// Checks a token against the machine's public key (SubjectPublicKeyInfo) and the clock. Returns null when valid,
    /// else why not, in words fit for a 401 answer.
    /// </summary>
    public static string? Verify(string token, ReadOnlySpan<byte> publicKey, DateTimeOffset now)
    {
        if (Parse(token) is not { } parsed)
            return "The machine token is malformed.";
        using var key = ECDsa.Create();
        try
        {
            key.ImportSubjectPublicKeyInfo(publicKey, out _);
        }
        catch (CryptographicException)
        {
            return "The machine's registered key cannot be read.";
        }

        if (!key.VerifyData(parsed.Bytes, parsed.Signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
            return "The machine token's signature does not match the machine's registered key.";
        var signedAt = DateTimeOffset.FromUnixTimeSeconds(parsed.Payload.SignedAt);
        if ((now - signedAt).Duration() > Lifetime)
            return $"The machine token was signed at {signedAt:u}, more than {Lifetime.TotalMinutes:0} minutes from the portal's clock ({now:u}): set the machine's clock right (NTP).";
        return null;
    }

    private static (Payload Payload, byte[] Bytes, byte[] Signature)? Parse(string token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > MaxLength)
            return null;
        var dot = token.IndexOf('.');
        if (dot <= 0 || dot == token.Length - 1)
            return null;
        try
        {
            var bytes = Base64Url.DecodeFromChars(token.AsSpan(0, dot));
            var signature = Base64Url.DecodeFromChars(token.AsSpan(dot + 1));
            var payload = JsonSerializer.Deserialize(bytes, TokenJson.Default.Payload);
            return payload is null || payload.MachineId == Guid.Empty || signature.Length != 64 ? null : (payload, bytes, signature);
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return null;
        }
    }

    internal sealed record Payload(
        [property: JsonPropertyName("m")] Guid MachineId,
        [property: JsonPropertyName("t")] long SignedAt,
        [property: JsonPropertyName("n")] string Nonce);
}

[JsonSerializable(typeof(MachineToken.Payload))]
internal sealed partial class TokenJson : JsonSerializerContext;
