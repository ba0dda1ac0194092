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
    [InlineData(6)]
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

    [Theory]
    [InlineData(BlobCodec.FrameSize)]
    [InlineData(BlobCodec.FrameSize + 1)]
    [InlineData(512 * 1024)]
    [InlineData(3 * BlobCodec.FrameSize + 4321)]
    public void A_chunk_larger_than_one_frame_is_stored_as_frames_and_reads_back_whole(int length)
    {
        // The largest chunks (up to 512 KiB) are compressed 128 KiB at a time, so each zstd context stays small.
        using var key = MasterKey.CreateRandom();
        var text = SourceText();
        var plain = new byte[length];
        for (var at = 0; at < length; at += text.Length) text.AsSpan(0, Math.Min(text.Length, length - at)).CopyTo(plain.AsSpan(at));
        using var sealedBytes = BlobCodec.EncodePooled(key, plain, []);

        Assert.True(sealedBytes.Length < length / 2, $"{sealedBytes.Length} bytes stored for {length}");
        Assert.Equal(plain, BlobCodec.Decode(key, sealedBytes.Span, []));
    }
}
