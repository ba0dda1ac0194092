using Portal.Engine.Retention;
using Portal.Features.Policies;

namespace Portal.Features.Protection;

/// <summary>
/// What one item's retention says of each of its recovery points now: kept until when, expired, or kept until deleted
/// (no end: a stopped item's latest point, as Azure's "retain as per policy" keeps it; a point of an item without a
/// policy, other than an on-demand one with its own date). The retention run removes what it calls expired; an immutable
/// vault holds the others until their end (<see cref="ImmutabilityHolds"/>).
/// </summary>
public static class PointRetention
{
    /// <param name="KeepUntil">When its retention ends; null when it has no end (kept until deleted) or has ended without a date.</param>
    public sealed record Verdict(RecoveryPoint Point, DateTimeOffset? KeepUntil, bool Expired)
    {
        /// <summary>Kept with no end: until someone deletes the item's data.</summary>
        public bool KeptUntilDeleted => !Expired && KeepUntil is null;
    }

    /// <summary>The verdict on each of <paramref name="points"/> (the item's own, all of them: a policy's rules look at them together).</summary>
    public static IEnumerable<Verdict> Evaluate(BackupItem item, IReadOnlyList<RecoveryPoint> points, DateTimeOffset now)
    {
        if (points.Count == 0)
            yield break;
        var latest = points.MaxBy(p => p.CreatedAt)!;
        var stopped = item.State == ProtectionState.ProtectionStopped;
        if (item.Policy is null)
        {
            // No policy: an on-demand point keeps its own date; any other, and a stopped item's latest, is kept until deleted.
            foreach (var p in points)
                yield return p.RetainUntil is { } until && !(stopped && p == latest)
                    ? new Verdict(p, Utc(until), Utc(until) <= now)
                    : new Verdict(p, null, false);
            yield break;
        }

        var policy = PolicyDefinition.FromJson(item.Policy.Definition);
        var decisions = RetentionCalculator.Evaluate(
            [.. points.Select(p => new RecoveryPointRef(p.SnapshotId, Utc(p.CreatedAt), p.RetainUntil is { } u ? Utc(u) : null))],
            policy.Retention, PolicySchedules.Zone(policy.Schedule), now);
        var byId = points.ToDictionary(p => p.SnapshotId, StringComparer.Ordinal);
        foreach (var decision in decisions)
        {
            var point = byId[decision.Point.Id];
            yield return stopped && point == latest
                ? new Verdict(point, null, false)
                : new Verdict(point, decision.KeepUntil, decision.Expired);
        }
    }

    private static DateTimeOffset Utc(DateTime time) => new(DateTime.SpecifyKind(time, DateTimeKind.Utc));
}
