using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Features.Audit;
using Portal.Features.Common;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;
using Portal.Features.Protection;

namespace Portal.Features.Drills;

/// <summary>The last drill of an item, as the item page says it: "last proven recoverable".</summary>
public sealed record DrillSummary(
    Guid Id, DrillResult Result, string SnapshotId, DateTime PointCreatedAt, DateTime FinishedAt, long FilesVerified, long BytesVerified,
    double RestoreSeconds, double EstimatedFullRestoreSeconds, string Detail, string RequestedBy, Guid? JobId);

/// <summary>
/// Restore drills: run one now (Backup.Contributor, Backup.Operator; audited) and read an item's drills. Drills of a
/// machine's items and of databases, schedules and samples come next (issue 22); today a drill restores a files-and-
/// folders item of the portal host whole.
/// </summary>
public sealed class DrillService(
    IDbContextFactory<PortalDbContext> dbFactory,
    ICurrentUser currentUser,
    AuditLog audit,
    JobPipeline pipeline,
    DrillJob drills)
{
    private static readonly string[] Drillers = [PortalRoles.Contributor, PortalRoles.Operator];

    public Task<Job> RunNowAsync(Guid itemId, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.ItemDrill, $"item/{itemId}", async user =>
        {
            Access.Require(user, "run restore drills", Drillers);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var item = await db.BackupItems.AsNoTracking().Include(i => i.Vault).FirstOrDefaultAsync(i => i.Id == itemId, ct)
                       ?? throw new PortalNotFoundException("This backup item no longer exists.");
            if (item.MachineId is not null || item.Kind != BackupItemKinds.FilesAndFolders)
                throw new PortalConflictException($"Drills of {(item.MachineId is not null ? "a machine's items" : "database items")} are not available yet: " +
                                                  "today a drill restores a files-and-folders item of the portal host.");
            if (!await db.RecoveryPoints.AnyAsync(p => p.ItemId == itemId, ct))
                throw new PortalConflictException($"{item.Name} has no recovery point to drill yet: back it up first.");
            if (await db.Jobs.AnyAsync(j => j.ItemId == itemId && j.Kind == JobKind.Drill
                                           && (j.Status == JobStatus.Queued || j.Status == JobStatus.InProgress || j.Status == JobStatus.Cancelling), ct))
                throw new PortalConflictException($"A drill of {item.Name} is already queued or running.");
            audit.Append(db, user, AuditActions.ItemDrill, ProtectionService.Resource(item.Vault!.Name, item.Name), "restore drill of the latest recovery point");
            var job = pipeline.Enqueue(db, drills, new DrillInput(item.Id), new JobTarget(item.VaultId, item.Vault.Name, item.Id, item.Name), user.DisplayName());
            await db.SaveChangesAsync(ct);
            await pipeline.QueuedAsync(job, ct);
            return job;
        });

    /// <summary>The item's drills, newest first.</summary>
    public async Task<IReadOnlyList<DrillSummary>> ListAsync(Guid itemId, int take = 20, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view restore drills");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.RecoveryDrills.AsNoTracking().Where(d => d.ItemId == itemId).OrderByDescending(d => d.FinishedAt).Take(Math.Clamp(take, 1, 200))
            .Select(d => new DrillSummary(d.Id, d.Result, d.SnapshotId, d.PointCreatedAt, d.FinishedAt, d.FilesVerified, d.BytesVerified,
                d.RestoreSeconds, d.EstimatedFullRestoreSeconds, d.Detail, d.RequestedBy, d.JobId))
            .ToListAsync(ct);
    }
}
