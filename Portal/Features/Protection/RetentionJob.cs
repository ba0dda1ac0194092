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
public sealed class RetentionJob(IDbContextFactory<PortalDbContext> dbFactory, ItemRepositories repositories, TimeProvider clock) : JobHandler<RetentionInput>
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
        var items = await db.BackupItems.AsNoTracking().Where(i => i.VaultId == input.VaultId).ToDictionaryAsync(i => i.Id, ct);
        run.Report(new JobProgressReport("Removing expired recovery points", 0, null, 0, expired.Count));
        // Each repository of the vault on its own: the portal host's items in the vault's, each machine's in its own. A
        // machine whose repository the portal cannot open (its key never reached the vault) keeps its points for the
        // next run; the vault's other repositories go on.
        var byRepository = expired.GroupBy(p => items.GetValueOrDefault(p.ItemId)?.MachineId).ToList();
        var opened = new List<IGrouping<Guid?, RecoveryPoint>>();
        var skipped = new List<string>();
        foreach (var group in byRepository)
        {
            BackupEngine engine;
            try
            {
                engine = await repositories.OpenAsync(vault.Id, vault.Name, vault.Region, group.Key, ct);
            }
            catch (VaultLockedException e) when (group.Key is not null)
            {
                skipped.Add($"{group.Count()} expired recovery point(s) of a machine's items stay until the next run: {e.Message}");
                continue;
            }

            using (engine)
                await engine.ForgetAsync(group.Select(p => p.SnapshotId), cancellationToken: ct);
            opened.Add(group);
        }

        var removedPoints = opened.SelectMany(g => g).ToList();
        var keptMachines = byRepository.Except(opened).Select(g => g.Key).ToHashSet();
        purged.RemoveAll(i => keptMachines.Contains(i.MachineId)); // its points are still in a repository the portal could not open
        db.RecoveryPoints.RemoveRange(removedPoints);
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
        var lines = removedPoints.Select(p => $"Removed recovery point {p.SnapshotId[..8]} of {items.GetValueOrDefault(p.ItemId)?.Name ?? "a purged item"} taken {p.CreatedAt:yyyy-MM-dd HH:mm} UTC.").ToList();
        lines.AddRange(purged.Select(i => $"Purged the backup data of {i.Name} (soft-deleted {i.SoftDeletedAt:yyyy-MM-dd HH:mm} UTC)."));
        if (lines.Count > 0)
            await run.LogAsync(JobLogLevel.Info, lines);
        if (skipped.Count > 0)
            await run.LogAsync(JobLogLevel.Warning, skipped);

        var removed = removedPoints.Count;
        run.Report(new JobProgressReport("Freeing space", 0, null, removed, removed));
        long freed = 0;
        var deferred = new List<string>();
        foreach (var group in opened)
        {
            using var engine = await repositories.OpenAsync(vault.Id, vault.Name, vault.Region, group.Key, ct);
            try
            {
                freed += (await engine.PruneAsync(run.Progress, ct)).BytesFreed;
            }
            catch (RepositoryLockedException e)
            {
                deferred.Add(e.Message);
            }
        }

        var outcome = deferred.Count == 0
            ? $"Removed {removed} recovery point(s); freed {Format.Bytes(freed)}."
            : $"Removed {removed} recovery point(s). Freeing {(opened.Count > 1 ? "part of " : "")}their space waits for the next retention run: {string.Join(" ", deferred)}";
        return skipped.Count == 0
            ? JobOutcome.Completed(outcome)
            : new JobOutcome(JobStatus.CompletedWithWarnings, $"{outcome} {string.Join(" ", skipped)}");
    }

    protected override string Cancelled(RetentionInput input) =>
        "Cancelled. The points already removed are gone; the others stay until the next retention run, which also frees the space.";

    protected override string? Explain(Exception e, RetentionInput input) => e is SnapshotRetainedException
        ? $"The retention run stopped: the vault holds these recovery points. {e.Message}" // an immutable vault's, whoever asked
        : VaultFailures.Explain(e, "expired points stay until the next run, and nothing a policy keeps was removed") is { } vault
            ? $"The retention run could not finish. {vault}"
            : null;
}
