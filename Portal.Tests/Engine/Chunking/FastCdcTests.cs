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

    [Fact]
    public void Zeros_cut_at_the_maximum_and_short_input_is_one_chunk()
    {
        Assert.Equal(100, Cdc.Cut(new byte[100]));
        Assert.InRange(Cdc.Cut(new byte[4 * 1024 * 1024]), ChunkerParams.Default.Min, ChunkerParams.Default.Max);
    }
}
