using Microsoft.EntityFrameworkCore;
using Portal.Engine;
using Portal.Features.Audit;
using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;
using Portal.Features.Vaults;
using Quartz;
using Portal.Data;

namespace Portal.Features.Protection;

/// <summary>
/// The retention run of every vault: applies each item's policy to its recovery points (<see cref="PointRetention"/>:
/// on-demand points keep their own date; a stopped item keeps its latest point forever, as Azure's "retain as per
/// policy" does; an item without a policy keeps its other points until deleted), holds in storage what an immutable
/// vault could not hold when it became immutable (<see cref="ImmutabilityHolds"/>), removes the
/// expired ones from the repository, purges soft-deleted items whose days are over, then prunes the data nothing
/// needs any more. Prune takes the repository's exclusive lock: while a backup runs it waits for the next run
/// (nothing is lost, the space is only freed later). A job (<see cref="RetentionJob"/>) is recorded only for a vault with
/// something to remove.
/// </summary>
public sealed class RetentionRunner(
    IDbContextFactory<PortalDbContext> dbFactory,
    JobPipeline pipeline,
    RetentionJob retention,
    ImmutabilityHolds holds,
    TimeProvider clock,
    ILogger<RetentionRunner> logger)
{
    public async Task RunAllAsync(CancellationToken ct)
    {
        List<Guid> vaults;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            vaults = await db.Vaults.AsNoTracking().Where(v => db.BackupItems.Any(i => i.VaultId == v.Id)).Select(v => v.Id).ToListAsync(ct);
        foreach (var vault in vaults)
        {
            try
            {
                await RunVaultAsync(vault, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Retention run of vault {Vault} failed: {Reason}", vault, e.Message);
            }
        }
    }

    /// <summary>
    /// Applies retention in one vault; returns the number of recovery points removed. One run per vault at a time
    /// across every portal instance (a PostgreSQL advisory lock); a run that finds another one busy does nothing.
    /// </summary>
    public async Task<int> RunVaultAsync(Guid vaultId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Database.OpenConnectionAsync(ct); // the advisory lock belongs to this connection until it closes
        var lockKey = BitConverter.ToInt64(vaultId.ToByteArray(), 8);
        if (!await db.Database.SqlQuery<bool>($"SELECT pg_try_advisory_lock({LockNamespace}, {(int)lockKey}) AS \"Value\"").SingleAsync(ct))
        {
            logger.LogInformation("Retention run of vault {Vault} skipped: another one is in progress", vaultId);
            return 0;
        }

        try
        {
            return await RunLockedAsync(db, vaultId, now, ct);
        }
        finally
        {
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock({LockNamespace}, {(int)lockKey})", CancellationToken.None);
        }
    }

    private const int LockNamespace = 0x52455445; // "RETE"

    private static DateTime Later(DateTime policy, DateTime? immutable) => immutable > policy ? immutable.Value : policy;

    private async Task<int> RunLockedAsync(PortalDbContext db, Guid vaultId, DateTimeOffset now, CancellationToken ct)
    {
        var vault = await db.Vaults.AsNoTracking().FirstAsync(v => v.Id == vaultId, ct);
        // What could not be held (or released) when immutability changed: a repository that could not be opened then.
        if (vault.IsImmutable())
            await holds.HoldAsync(vaultId, ct);
        else if (await db.RecoveryPoints.AnyAsync(p => p.VaultId == vaultId && p.HeldWhileImmutable, ct))
            await holds.ReleaseAsync(vaultId, ct);
        var items = await db.BackupItems.Include(i => i.Policy).Where(i => i.VaultId == vaultId).ToListAsync(ct);
        var points = await db.RecoveryPoints.Where(p => p.VaultId == vaultId).ToListAsync(ct);

        var expired = new List<RecoveryPoint>();
        var purged = new List<BackupItem>();
        foreach (var item in items)
        {
            var own = points.Where(p => p.ItemId == item.Id).ToList();
            if (item.State == ProtectionState.SoftDeleted)
            {
                // A point taken while the vault was immutable outlives the soft delete until its own time (the engine would refuse it anyway).
                if (ProtectionService.PurgeAfter(item, vault) is { } purgeAt && purgeAt <= now.UtcDateTime
                    && !own.Any(p => p.ImmutableUntil > now.UtcDateTime || p.HeldWhileImmutable))
                {
                    purged.Add(item);
                    expired.AddRange(own);
                }

                continue; // soft-deleted data is kept whole until it is purged
            }

            foreach (var verdict in PointRetention.Evaluate(item, own, now))
            {
                var point = verdict.Point;
                // Held by an immutable vault: kept at least that long, whatever changed since.
                var immutable = point.ImmutableUntil > now.UtcDateTime || point.HeldWhileImmutable;
                if (verdict.Expired && !immutable)
                    expired.Add(point);
                else
                    point.ExpiresAt = verdict.KeepUntil is null || point.HeldWhileImmutable ? null : Later(verdict.KeepUntil.Value.UtcDateTime, point.ImmutableUntil);
            }
        }

        await db.SaveChangesAsync(ct); // the new expiry dates
        if (expired.Count == 0)
            return 0;

        var job = await pipeline.RunHereAsync(retention, new RetentionInput(vault.Id, [.. expired.Select(p => p.Id)], [.. purged.Select(i => i.Id)]),
            new JobTarget(vault.Id, vault.Name, null, "retention"), "portal", ct);
        if (job.Status == JobStatus.Failed)
            throw new InvalidOperationException(job.Message);
        return expired.Count;
    }
}

/// <summary>The retention run's schedule (Protection:RetentionCron), once at a time across every portal instance.</summary>
[DisallowConcurrentExecution]
internal sealed class RetentionSchedule(RetentionRunner runner) : IJob
{
    public static readonly JobKey Key = new("retention", "maintenance");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) => await runner.RunAllAsync(cancellationToken);
}
