using Microsoft.Extensions.Options;
using Portal.Features.Regions;

namespace Portal.Tests.Infrastructure;

/// <summary>The region layout of the embedded defaults: east and west paired, central alone.</summary>
public static class TestRegions
{
    /// <summary>East and west (a GRS pair) and central (no pair), <paramref name="replicas"/> folders each (LRS's copies).</summary>
    public static StorageOptions Options(int replicas = 3) => new()
    {
        Regions =
        [
            Region("east", "west", replicas),
            Region("west", "east", replicas),
            Region("central", null, replicas),
        ],
    };

    public static RegionCatalog Catalog() => new(Microsoft.Extensions.Options.Options.Create(Options()));

    public static RegionOptions Region(string name, string? pair, int replicas = 3) => new()
    {
        Name = name,
        PairedRegion = pair,
        Replicas = [.. Enumerable.Range(1, replicas).Select(i => new ReplicaOptions { Path = $"{name}/{i}" })],
    };
}
