using Microsoft.EntityFrameworkCore;
using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;
using Portal.Data;

namespace Portal.Features.Protection;

/// <summary>Backups of an item started by its schedule (queued for any instance), or here and now.</summary>
public sealed class Backups(IDbContextFactory<PortalDbContext> dbFactory, JobPipeline pipeline, BackupJob backups, MachineBackupJob machineBackups)
{
    /// <summary>
    /// Queues the scheduled backup of an item; nothing when the item is not protected (any more), or when a backup of it
    /// is already waiting (that one makes the point: missed slots never pile up behind a long backup).
    /// </summary>
    public async Task<Job?> EnqueueScheduledAsync(Guid itemId, CancellationToken ct)
    {
        if (await ScheduledAsync(itemId, ct) is not var (input, target, startedBy))
            return null;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            if (await db.Jobs.AnyAsync(j => j.ConcurrencyKey == backups.ConcurrencyKey(input) && j.Status == JobStatus.Queued, ct))
                return null;
        // A machine's backup waits in the queue for its agent (Machines:OfflineWindow); the portal's own is claimed by any instance.
        return target.MachineId is null
            ? await pipeline.EnqueueAsync(backups, input, target, startedBy, ct)
            : await pipeline.EnqueueAsync(machineBackups, input, target, startedBy, ct);
    }

    /// <summary>
    /// Runs the scheduled backup of an item here and now, and returns the job as it ended (null when the item is not
    /// protected). A machine's item is queued for its agent instead, and the queued job is returned.
    /// </summary>
    public async Task<Job?> RunScheduledAsync(Guid itemId, CancellationToken ct) =>
        await ScheduledAsync(itemId, ct) is var (input, target, startedBy)
            ? target.MachineId is null ? await pipeline.RunHereAsync(backups, input, target, startedBy, ct) : await EnqueueScheduledAsync(itemId, ct)
            : null;

    /// <summary>Runs an on-demand backup of an item here and now, kept until <paramref name="retainUntilUtc"/>.</summary>
    public async Task<Job> RunOnDemandAsync(Guid itemId, DateTime retainUntilUtc, string startedBy, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var item = await db.BackupItems.AsNoTracking().Include(i => i.Vault).FirstAsync(i => i.Id == itemId, ct);
        return await pipeline.RunHereAsync(backups, new BackupInput(itemId, RecoveryPointType.OnDemand, retainUntilUtc),
            new JobTarget(item.VaultId, item.Vault!.Name, item.Id, item.Name), startedBy, ct);
    }

    private async Task<(BackupInput, JobTarget, string)?> ScheduledAsync(Guid itemId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var item = await db.BackupItems.AsNoTracking().Include(i => i.Vault).Include(i => i.Policy).FirstOrDefaultAsync(i => i.Id == itemId, ct);
        if (item is null || item.State != ProtectionState.Protected)
            return null;
        return (new BackupInput(item.Id, RecoveryPointType.Scheduled), new JobTarget(item.VaultId, item.Vault!.Name, item.Id, item.Name, item.MachineId),
            $"schedule ({item.Policy?.Name ?? "policy"})");
    }
}
