using System.Security.Cryptography;
using System.Text;
using Portal.Engine.Crypto;

namespace Portal.Tests.Engine.Crypto;

public sealed class ChunkIdTests
{
    [Fact]
    public void Runs_of_zeros_get_the_keyed_hash_of_their_own_length()
    {
        var raw = RandomNumberGenerator.GetBytes(MasterKey.Length);
        using var key = new MasterKey(raw.ToArray());
        // The id key as documented in docs/repository-format.md: HKDF-SHA256(master, info "portal/id/hmac-sha256").
        var idKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, raw, 32, info: Encoding.ASCII.GetBytes("portal/id/hmac-sha256"));
        foreach (var length in new[] { 4096, 65536, 524288, 65536, 4095, 100_000 })
        {
            var zeros = new byte[length];
            Assert.Equal(Convert.ToHexStringLower(HMACSHA256.HashData(idKey, zeros)), key.Id(zeros).ToHex());
        }
        var almost = new byte[65536];
        almost[^1] = 1;
        Assert.Equal(Convert.ToHexStringLower(HMACSHA256.HashData(idKey, almost)), key.Id(almost).ToHex());
    }

    [Fact]
    public void The_file_fingerprint_seed_is_the_documented_derivation()
    {
        // docs/repository-format.md: the first 8 bytes (little-endian) of HKDF-SHA256(master, info "portal/fingerprint/xxh128").
        // Another seed would not corrupt anything, but every copied file of an existing repository would be cut again.
        var raw = RandomNumberGenerator.GetBytes(MasterKey.Length);
        using var key = new MasterKey(raw.ToArray());
        var bytes = HKDF.DeriveKey(HashAlgorithmName.SHA256, raw, 8, info: Encoding.ASCII.GetBytes("portal/fingerprint/xxh128"));
        var expected = bytes.Select((b, i) => (long)b << (8 * i)).Aggregate(0L, (a, b) => a | b);
        Assert.Equal(expected, key.FingerprintSeed());
    }
}
