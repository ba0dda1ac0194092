using Microsoft.Extensions.Options;
using Portal.Features.Regions;

namespace Portal.Tests.Infrastructure;

/// <summary>The region layout of the embedded defaults: east and west paired, central alone.</summary>
public static class TestRegions
{
    /// <summary>
    /// East and west (a GRS pair) and central (no pair), three folders each (LRS's copies); with
    /// <paramref name="singleReplicas"/>, also a region "single" of that many folders (the benchmarks' one-copy region).
    /// </summary>
    public static StorageOptions Options(int? singleReplicas = null) => new()
    {
        Regions =
        [
            Region("east", "west"),
            Region("west", "east"),
            Region("central", null),
            .. singleReplicas is { } count ? [Region("single", null, count)] : Array.Empty<RegionOptions>(),
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
