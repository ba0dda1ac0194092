using System.Text;
using Portal.Engine.Compression;

namespace Portal.Tests.Engine.Compression;

public sealed class ZstdContextTests
{
    public static TheoryData<string> Inputs => ["text", "random", "zeros", "empty"];

    private static byte[] Input(string kind)
    {
        var rng = new Random(7);
        return kind switch
        {
            "text" => Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 4000).Select(i => $"backup vault restore {rng.Next(100000)} policy\n"))),
            "random" => Enumerable.Range(0, 70_000).Select(_ => (byte)rng.Next(256)).ToArray(),
            "zeros" => new byte[300_000],
            _ => [],
        };
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1000)]
    [InlineData(128 * 1024 - 1)]
    [InlineData(128 * 1024)]
    [InlineData(512 * 1024 + 3)]
    public void The_bound_is_zstds_own(int length) =>
        Assert.Equal((int)ZstdSharp.Unsafe.Methods.ZSTD_compressBound((nuint)length), ZstdContext.CompressBound(length));

    [Fact]
    public void This_machine_uses_the_system_library()
    {
        // libzstd1 is part of every Debian install; without it the portal still works, only slower.
        Assert.True(ZstdContext.IsNative, "libzstd.so.1 was not found: compression falls back to the managed port.");
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Frames_written_by_one_implementation_are_read_by_the_other(string kind)
    {
        var input = Input(kind);
        var native = ZstdContext.CreateNative()!;
        var managed = ZstdContext.CreateManaged();
        foreach (var (writer, reader) in new[] { (native, managed), (managed, native) })
        {
            var compressed = new byte[ZstdContext.CompressBound(input.Length)];
            var n = writer.CompressFrame(input, compressed, 1);
            var output = new byte[input.Length];
            Assert.Equal(input.Length, reader.DecompressFrame(compressed.AsSpan(0, n), output));
            Assert.Equal(input, output);
        }
    }

    [Fact]
    public void Concatenated_frames_are_read_as_one_by_both_implementations()
    {
        // A large tree is stored as one frame per segment, one after another (BlobCodec.Encode of segments).
        var first = Input("text");
        var second = Input("random");
        var native = ZstdContext.CreateNative()!;
        var body = new List<byte>();
        foreach (var part in new[] { first, second })
        {
            var frame = new byte[ZstdContext.CompressBound(part.Length)];
            body.AddRange(frame.AsSpan(0, native.CompressFrame(part, frame, 1)).ToArray());
        }
        foreach (var reader in new[] { native, ZstdContext.CreateManaged() })
        {
            var output = new byte[first.Length + second.Length];
            Assert.Equal(output.Length, reader.DecompressFrame(body.ToArray(), output));
            Assert.Equal([.. first, .. second], output);
        }
    }

    [Fact]
    public void Corrupt_input_is_refused_by_the_system_library_never_returned_as_good_data()
    {
        var input = Input("text");
        var native = ZstdContext.CreateNative()!;
        var compressed = new byte[ZstdContext.CompressBound(input.Length)];
        var n = native.CompressFrame(input, compressed, 1);
        compressed[n / 2] ^= 0x55;
        compressed[n / 2 + 1] ^= 0x55;
        var output = new byte[input.Length];
        var e = Assert.ThrowsAny<InvalidDataException>(() =>
        {
            if (native.DecompressFrame(compressed.AsSpan(0, n), output) != input.Length || !output.AsSpan().SequenceEqual(input))
                throw new InvalidDataException("Corrupt zstd data.");
        });
        Assert.Contains("Corrupt", e.Message);
    }
}
