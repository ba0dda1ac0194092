using Portal.Engine.Retention;
using Portal.Features.Policies;
using Portal.Features.Vaults;

namespace Portal.Features.Protection;

/// <summary>
/// How long a new recovery point of an immutable vault must be kept whoever asks: written into its snapshot, where the
/// engine's forget refuses it before then (<see cref="Engine.SnapshotRetainedException"/>), and onto its row, where
/// retention keeps it at least that long.
/// </summary>
public static class ImmutableRetention
{
    /// <summary>
    /// An on-demand point's own date; a scheduled point's retention under the item's policy as it is when the point is
    /// taken (a retention reduction is refused while the vault is immutable, so it only grows); null when the vault is not
    /// immutable or the item has no policy.
    /// </summary>
    public static DateTimeOffset? KeepUntil(Vault vault, BackupPolicy? policy, BackupInput input, DateTimeOffset now)
    {
        if (!vault.IsImmutable())
            return null;
        if (input.RetainUntil is { } until)
            return new DateTimeOffset(DateTime.SpecifyKind(until, DateTimeKind.Utc));
        if (policy is null)
            return null;
        var definition = PolicyDefinition.FromJson(policy.Definition);
        return RetentionCalculator.Evaluate([new RecoveryPointRef("new", now)], definition.Retention, PolicySchedules.Zone(definition.Schedule), now)
            .Single().KeepUntil;
    }
}
