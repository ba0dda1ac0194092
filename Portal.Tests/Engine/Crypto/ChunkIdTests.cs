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
}
