using Microsoft.Extensions.Options;

namespace Portal.Features.Regions;

/// <summary>A configured region as the portal shows it.</summary>
public sealed record Region(string Name, string DisplayName, string? PairedRegion)
{
    public bool HasPair => PairedRegion is not null;

    /// <summary>How many replicas (copies) the region keeps, as configured.</summary>
    public int Replicas { get; init; }
}

/// <summary>The configured storage regions, read once from validated <see cref="StorageOptions"/>.</summary>
public sealed class RegionCatalog(IOptions<StorageOptions> options)
{
    private readonly IReadOnlyList<Region> regions = options.Value.Regions
        .Select(r => new Region(r.Name, string.IsNullOrWhiteSpace(r.DisplayName) ? r.Name : r.DisplayName!,
            string.IsNullOrWhiteSpace(r.PairedRegion) ? null : r.PairedRegion) { Replicas = r.Replicas.Count })
        .ToList();

    public IReadOnlyList<Region> All => regions;

    public Region? Find(string? name) =>
        regions.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase));
}
