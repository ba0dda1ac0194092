using Portal.Features.Vaults;

namespace Portal.Features.Attach;

/// <summary>
/// Attach an existing vault: the region its storage is in, its passphrase, and (when the passphrase opens more than one
/// vault there) the vault's id, the name of its folder <c>vaults/&lt;id&gt;</c> in the region's storage.
/// </summary>
public sealed record AttachVaultRequest(string Region, string Passphrase, string? VaultId = null);

/// <summary>What attaching would bring back, shown before it is confirmed.</summary>
/// <param name="ManifestWritten">When the vault manifest was last written; null when the vault has none (older data: names come from the points).</param>
/// <param name="Unavailable">What cannot come back, each in plain words (a machine whose key was never escrowed).</param>
/// <param name="Notes">What to do after attaching (database passwords to type again).</param>
public sealed record AttachPreview(
    Guid VaultId, string Name, string Region, StorageRedundancy Redundancy, DateTimeOffset? ManifestWritten, int Policies,
    IReadOnlyList<AttachItemPreview> Items, int Machines, IReadOnlyList<string> Unavailable, IReadOnlyList<string> Notes)
{
    public int RecoveryPoints => Items.Sum(i => i.RecoveryPoints);

    /// <summary>When the newest recovery point that comes back was taken (UTC); null when none does.</summary>
    public DateTime? NewestPoint => Items.Max(i => i.NewestPoint);

    /// <summary>The machines that come back, by name.</summary>
    public IReadOnlyList<string> MachineNames { get; init; } = [];
}

/// <summary>One item that comes back: <paramref name="Recovered"/> when only its points name it (it is no longer in the manifest).</summary>
/// <param name="NewestPoint">When its newest recovery point was taken (UTC); null without points.</param>
public sealed record AttachItemPreview(string Name, string Kind, string Source, string? Machine, string? Policy, int RecoveryPoints, bool Recovered,
    DateTime? NewestPoint = null);

/// <summary>A region as the attach dialog offers it: its name and where its replicas are (folders or containers).</summary>
public sealed record AttachRegion(string Name, string DisplayName, IReadOnlyList<string> Locations);
