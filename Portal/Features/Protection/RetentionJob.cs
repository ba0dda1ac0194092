using Microsoft.EntityFrameworkCore;
using Portal.Engine;
using Portal.Features.Audit;
using Portal.Features.Common;
using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;
using Portal.Data;

namespace Portal.Features.Protection;

/// <summary>What one retention run removes from a vault: expired recovery points, and soft-deleted items whose days are over.</summary>
public sealed record RetentionInput(Guid VaultId, IReadOnlyList<Guid> ExpiredPoints, IReadOnlyList<Guid> PurgedItems);

/// <summary>
/// Removes what <see cref="RetentionRunner"/> found expired: the recovery points leave the repository and the catalog,
/// purged items are deleted (audited), then prune frees the data nothing needs any more. Resumable: forgetting a point
/// twice and pruning twice are harmless, and a point already gone from the catalog is skipped.
/// </summary>
public sealed class RetentionJob(IDbContextFactory<PortalDbContext> dbFactory, VaultKeys keys, TimeProvider clock) : JobHandler<RetentionInput>
{
    public override string Name => "retention";

    public override JobKind Kind => JobKind.Retention;

    protected override string Noun => "retention run";

    public override string ConcurrencyKey(RetentionInput input) => $"retention/{input.VaultId:N}";

    public override async Task<JobOutcome> RunAsync(RetentionInput input, JobRun run, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var vault = await db.Vaults.AsNoTracking().FirstAsync(v => v.Id == input.VaultId, ct);
        var expired = await db.RecoveryPoints.Where(p => input.ExpiredPoints.Contains(p.Id)).ToListAsync(ct);
        var purged = await db.BackupItems.Where(i => input.PurgedItems.Contains(i.Id)).ToListAsync(ct);
        var names = await db.BackupItems.AsNoTracking().Where(i => i.VaultId == input.VaultId).ToDictionaryAsync(i => i.Id, i => i.Name, ct);
        using var engine = await keys.OpenAsync(vault.Id, vault.Name, vault.Region, ct);
        run.Report(new JobProgressReport("Removing expired recovery points", 0, null, 0, expired.Count));
        await engine.ForgetAsync(expired.Select(p => p.SnapshotId), cancellationToken: ct);
        db.RecoveryPoints.RemoveRange(expired);
        var now = clock.GetUtcNow().UtcDateTime;
        foreach (var item in purged)
        {
            db.BackupItems.Remove(item);
            db.AuditEntries.Add(new AuditEntry
            {
                At = now, ActorObjectId = "", ActorName = "portal (retention run)", Action = AuditActions.ItemPurge,
                Resource = ProtectionService.Resource(vault.Name, item.Name), Outcome = AuditOutcome.Succeeded,
                Detail = $"soft-deleted {item.SoftDeletedAt:yyyy-MM-dd HH:mm} UTC; backup data purged",
            });
        }

        await db.SaveChangesAsync(ct);
        var lines = expired.Select(p => $"Removed recovery point {p.SnapshotId[..8]} of {names.GetValueOrDefault(p.ItemId, "a purged item")} taken {p.CreatedAt:yyyy-MM-dd HH:mm} UTC.").ToList();
        lines.AddRange(purged.Select(i => $"Purged the backup data of {i.Name} (soft-deleted {i.SoftDeletedAt:yyyy-MM-dd HH:mm} UTC)."));
        if (lines.Count > 0)
            await run.LogAsync(JobLogLevel.Info, lines);

        var removed = input.ExpiredPoints.Count;
        try
        {
            run.Report(new JobProgressReport("Freeing space", 0, null, removed, removed));
            var prune = await engine.PruneAsync(run.Progress, ct);
            return JobOutcome.Completed($"Removed {removed} recovery point(s); freed {Format.Bytes(prune.BytesFreed)}.");
        }
        catch (RepositoryLockedException e)
        {
            return JobOutcome.Completed($"Removed {removed} recovery point(s). Freeing their space waits for the next retention run: {e.Message}");
        }
    }

    protected override string Cancelled(RetentionInput input) =>
        "Cancelled. The points already removed are gone; the others stay until the next retention run, which also frees the space.";

    protected override string? Explain(Exception e, RetentionInput input) =>
        VaultFailures.Explain(e, "expired points stay until the next run, and nothing a policy keeps was removed") is { } vault
            ? $"The retention run could not finish. {vault}"
            : null;
}
