using System.Text;
using Portal.Engine.Crypto;

namespace Portal.Tests.Engine.Crypto;

public sealed class Argon2Tests
{
    [Theory]
    [InlineData(1024, 1, 1)]
    [InlineData(19456, 2, 2)]
    [InlineData(4096, 3, 4)]
    public void The_native_library_and_the_managed_implementation_derive_the_same_key(int memoryKiB, int iterations, int parallelism)
    {
        var password = Encoding.UTF8.GetBytes("correct horse battery staple ünïcødé");
        var salt = Enumerable.Range(0, 16).Select(i => (byte)(i * 7)).ToArray();
        var managed = Argon2.DeriveId(password, salt, memoryKiB, iterations, parallelism, 32, forceManaged: true);
        var chosen = Argon2.DeriveId(password, salt, memoryKiB, iterations, parallelism, 32);
        Assert.Equal(Convert.ToHexString(managed), Convert.ToHexString(chosen));
    }
}
