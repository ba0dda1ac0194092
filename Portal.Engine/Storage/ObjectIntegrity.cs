using System.Security.Cryptography;

namespace Portal.Engine.Storage;

/// <summary>
/// Every repository object except <c>config</c> and <c>locks/</c> is named by the SHA-256 of its bytes
/// (docs/repository-format.md), so a store can verify what it read without any key.
/// </summary>
public static class ObjectIntegrity
{
    /// <summary>Whether <paramref name="name"/> ends in a 64-hex-digit content hash.</summary>
    public static bool IsContentAddressed(string name)
    {
        var last = name.AsSpan(name.LastIndexOf('/') + 1);
        if (last.Length != 64) return false;
        foreach (var c in last)
        {
            if (c is not (>= '0' and <= '9' or >= 'a' and <= 'f')) return false;
        }
        return true;
    }

    /// <summary>True when <paramref name="data"/> matches the hash in <paramref name="name"/>, or the name carries none.</summary>
    public static bool Matches(string name, ReadOnlySpan<byte> data)
    {
        if (!IsContentAddressed(name)) return true;
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(data, hash);
        return Convert.ToHexStringLower(hash).AsSpan().SequenceEqual(name.AsSpan(name.Length - 64));
    }
}

/// <summary>An object whose bytes do not match its name's hash on every copy that could be read (permanent).</summary>
public sealed class ObjectCorruptException(string name, string detail)
    : StoreException($"Object '{name}' is damaged: {detail}", false)
{
    /// <summary>The damaged object's name.</summary>
    public string ObjectName { get; } = name;
}
