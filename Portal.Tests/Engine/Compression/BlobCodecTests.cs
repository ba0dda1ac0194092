using System.Text;
using Portal.Engine.Compression;
using Portal.Engine.Crypto;

namespace Portal.Tests.Engine.Compression;

/// <summary>
/// The zstd level is a writer's choice, not part of the repository format: a blob stored at any level (the level of
/// an older build, of today's, or a benchmark's <c>PORTAL_ZSTD_LEVEL</c>) reads back by its stored compression id.
/// </summary>
public sealed class BlobCodecTests
{
    private static byte[] SourceText()
    {
        var rng = new Random(11);
        var lines = new StringBuilder();
        for (var i = 0; i < 3000; i++)
            lines.Append($"    export function handle{rng.Next(400)}(request, reply) {{ return reply.send({{ id: {rng.Next(100000)}, ok: true }}); }}\n");
        return Encoding.UTF8.GetBytes(lines.ToString());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(BlobCodec.DefaultLevel)]
    [InlineData(BlobCodec.DefaultTreeLevel)]
    [InlineData(19)]
    public void A_blob_stored_at_any_level_reads_back_without_knowing_the_level(int level)
    {
        using var key = MasterKey.CreateRandom();
        var plain = SourceText();
        var aad = "data/0123"u8.ToArray();
        using var sealedBytes = BlobCodec.EncodePooled(key, plain, aad, level);

        Assert.True(sealedBytes.Length < plain.Length / 2, $"{sealedBytes.Length} bytes stored for {plain.Length} of text at level {level}");
        Assert.Equal(plain, BlobCodec.Decode(key, sealedBytes.Span, aad));
    }

    [Fact]
    public void The_default_level_stores_source_text_smaller_than_the_fastest_level()
    {
        using var key = MasterKey.CreateRandom();
        var plain = SourceText();
        using var fastest = BlobCodec.EncodePooled(key, plain, [], 1);
        using var stored = BlobCodec.EncodePooled(key, plain, []);

        Assert.True(stored.Length < fastest.Length, $"default level {BlobCodec.Level}: {stored.Length} bytes, level 1: {fastest.Length}");
    }
}
