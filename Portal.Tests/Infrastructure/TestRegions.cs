using Microsoft.Extensions.Options;
using Portal.Features.Regions;

namespace Portal.Tests.Infrastructure;

/// <summary>The region layout of the embedded defaults: east and west paired, central alone.</summary>
public static class TestRegions
{
    public static StorageOptions Options() => new()
    {
        Regions =
        [
            Region("east", "west"),
            Region("west", "east"),
            Region("central", null),
        ],
    };

    public static RegionCatalog Catalog() => new(Microsoft.Extensions.Options.Options.Create(Options()));

    public static RegionOptions Region(string name, string? pair) => new()
    {
        Name = name,
        PairedRegion = pair,
        Replicas = [new() { Path = $"{name}/1" }, new() { Path = $"{name}/2" }, new() { Path = $"{name}/3" }],
    };
}
