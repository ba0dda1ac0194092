using Portal.Engine.Chunking;
using Portal.Engine.Crypto;

namespace Portal.Tests.Engine.Chunking;

public sealed class FastCdcTests
{
    private static readonly FastCdc Cdc = new(MasterKey.CreateRandom().GearTable(), ChunkerParams.Default);

    private static List<int> Cut(byte[] data)
    {
        var sizes = new List<int>();
        for (var pos = 0; pos < data.Length;)
        {
            var n = Cdc.Cut(data.AsSpan(pos, Math.Min(ChunkerParams.Default.Max, data.Length - pos)));
            sizes.Add(n);
            pos += n;
        }
        return sizes;
    }

    [Fact]
    public void Chunks_respect_the_limits_and_average_near_the_target()
    {
        var sizes = Cut(EngineTestKit.Random(32 * 1024 * 1024, 51));
        var p = ChunkerParams.Default;
        Assert.All(sizes[..^1], s => Assert.InRange(s, p.Min, p.Max));
        var avg = sizes.Average();
        Assert.InRange(avg, p.Avg * 0.7, p.Avg * 1.5);
    }

    [Fact]
    public void Boundaries_resynchronise_after_an_insertion()
    {
        var data = EngineTestKit.Random(8 * 1024 * 1024, 52);
        var a = Cut(data);
        var b = Cut([.. data[..100_000], 1, 2, 3, .. data[100_000..]]);
        var endsA = a.Select((_, i) => a.Take(i + 1).Sum()).ToHashSet();
        var endsB = b.Select((_, i) => b.Take(i + 1).Sum() - 3).ToHashSet();
        var shared = endsA.Intersect(endsB).Count();
        Assert.True(shared >= a.Count - 3, $"{shared} of {a.Count} boundaries survived");
    }

    /// <summary>The definition the format stores (fastcdc-gear64-nc2), one byte at a time: the optimised loop must cut at exactly these points.</summary>
    private static int ReferenceCut(ulong[] gear, ChunkerParams p, ReadOnlySpan<byte> data)
    {
        var n = Math.Min(data.Length, p.Max);
        if (data.Length <= p.Min) return data.Length;
        var bits = System.Numerics.BitOperations.Log2((uint)p.Avg);
        ulong maskS = ~0UL << (64 - (bits + 2)), maskL = ~0UL << (64 - (bits - 2)), hash = 0;
        for (var i = p.Min; i < n; i++)
        {
            hash = (hash << 1) + gear[data[i]];
            if ((hash & (i < Math.Min(p.Avg, n) ? maskS : maskL)) == 0) return i + 1;
        }
        return n;
    }

    [Theory]
    [InlineData(16 * 1024, 64 * 1024, 512 * 1024)]
    [InlineData(64, 256, 1024)]
    [InlineData(1001, 4096, 9999)]
    public void Cut_points_equal_the_one_byte_definition(int min, int avg, int max)
    {
        var gear = MasterKey.CreateRandom().GearTable();
        var p = new ChunkerParams(min, avg, max);
        var cdc = new FastCdc(gear, p);
        var data = EngineTestKit.Random(4 * 1024 * 1024, 53);
        var cuts = 0;
        for (var pos = 0; pos < data.Length; cuts++)
        {
            var rest = data.AsSpan(pos, Math.Min(max + 3, data.Length - pos));
            var expected = ReferenceCut(gear, p, rest);
            Assert.Equal(expected, cdc.Cut(rest));
            // Every short tail as well: the unrolled loop's remainder handling.
            if (cuts < 64) Assert.Equal(ReferenceCut(gear, p, rest[..Math.Min(rest.Length, min + cuts)]), cdc.Cut(rest[..Math.Min(rest.Length, min + cuts)]));
            pos += expected;
        }
        Assert.True(cuts > 4 * 1024 * 1024 / max, $"only {cuts} chunks");
    }

    [Fact]
    public void Zeros_cut_at_the_maximum_and_short_input_is_one_chunk()
    {
        Assert.Equal(100, Cdc.Cut(new byte[100]));
        Assert.InRange(Cdc.Cut(new byte[4 * 1024 * 1024]), ChunkerParams.Default.Min, ChunkerParams.Default.Max);
    }
}
