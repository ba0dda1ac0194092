using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Features.Audit;
using Portal.Features.Common;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;
using Portal.Features.Protection;
using Portal.Features.Workloads;

namespace Portal.Features.Drills;

/// <summary>The last drill of an item, as the item page says it: "last proven recoverable".</summary>
public sealed record DrillSummary(
    Guid Id, DrillResult Result, string SnapshotId, DateTime PointCreatedAt, DateTime FinishedAt, long FilesVerified, long BytesVerified,
    double RestoreSeconds, double EstimatedFullRestoreSeconds, string Detail, string RequestedBy, Guid? JobId)
{
    public string Sample { get; init; } = "whole";
    public double? RtoTargetSeconds { get; init; }
    public string ConfiguredBy { get; init; } = "";
}

/// <summary>An item's drill settings: its own, its policy's, the ones in force, and when the next drill starts.</summary>
public sealed record ItemDrillSettings(DrillSettings? Own, DrillSettings? Policy, string? PolicyName, EffectiveDrillSettings? Effective, DateTime? NextRunAt)
{
    /// <summary>A PostgreSQL item: its drills restore into a throwaway database and may run <see cref="CheckQuery"/>.</summary>
    public bool IsDatabase { get; init; }

    /// <summary>The database item's check query, or null.</summary>
    public string? CheckQuery { get; init; }
}

/// <summary>
/// Restore drills: run one now, set the drill schedules of policies and items (Backup.Contributor, Backup.Operator;
/// audited), set a database item's check query, and read an item's drills. A drill restores a files-and-folders item on
/// the portal host (<see cref="DrillJob"/>) or on its machine (<see cref="MachineDrillJob"/>), or a PostgreSQL item into a
/// throwaway database (<see cref="DatabaseDrill"/>).
/// </summary>
public sealed class DrillService(
    IDbContextFactory<PortalDbContext> dbFactory,
    ICurrentUser currentUser,
    AuditLog audit,
    JobPipeline pipeline,
    DrillJob drills,
    MachineDrillJob machineDrills,
    DrillScheduler scheduler,
    TimeProvider clock)
{
    private static readonly string[] Drillers = [PortalRoles.Contributor, PortalRoles.Operator];

    internal static Task<bool> BusyAsync(PortalDbContext db, Guid itemId, CancellationToken ct) =>
        db.Jobs.AnyAsync(j => j.ItemId == itemId && j.Kind == JobKind.Drill
                              && (j.Status == JobStatus.Queued || j.Status == JobStatus.InProgress || j.Status == JobStatus.Cancelling), ct);

    /// <summary>The item's own drill settings, its policy's, and the ones in force.</summary>
    public async Task<ItemDrillSettings> GetItemSettingsAsync(Guid itemId, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view restore drills");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var item = await db.BackupItems.AsNoTracking().Where(i => i.Id == itemId).Select(i => new { i.PolicyId, PolicyName = i.Policy!.Name, i.Kind, i.DrillCheckQuery }).FirstOrDefaultAsync(ct)
                   ?? throw new PortalNotFoundException("This backup item no longer exists.");
        var own = await db.DrillSchedules.AsNoTracking().FirstOrDefaultAsync(s => s.ItemId == itemId, ct);
        var policy = item.PolicyId is { } p ? await db.DrillSchedules.AsNoTracking().FirstOrDefaultAsync(s => s.PolicyId == p, ct) : null;
        return new ItemDrillSettings(own is null ? null : DrillSettings.From(own), policy is null ? null : DrillSettings.From(policy), item.PolicyName,
            await EffectiveDrillSettings.ForItemAsync(db, itemId, ct), await scheduler.NextRunAsync(itemId, ct))
        {
            IsDatabase = item.Kind == BackupItemKinds.PostgreSql, CheckQuery = item.DrillCheckQuery,
        };
    }

    /// <summary>
    /// Sets a PostgreSQL item's check query (one statement; null or blank: none), run by each drill on the restored copy in
    /// a read-only transaction within <see cref="DrillOptions.CheckQueryTimeoutSeconds"/>. Backup.Contributor or Backup.Operator; audited.
    /// </summary>
    public Task SetCheckQueryAsync(Guid itemId, string? query, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.ItemDrillSchedule, $"item/{itemId}", async user =>
        {
            Access.Require(user, "set drill check queries", Drillers);
            if (DatabaseDrill.CheckQueryProblem(query) is { } problem)
                throw new PortalValidationException("CheckQuery", problem);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var item = await db.BackupItems.Include(i => i.Vault).FirstOrDefaultAsync(i => i.Id == itemId, ct)
                       ?? throw new PortalNotFoundException("This backup item no longer exists.");
            if (item.Kind != BackupItemKinds.PostgreSql)
                throw new PortalValidationException("CheckQuery", $"{item.Name} is not a database: a check query is for PostgreSQL items.");
            item.DrillCheckQuery = string.IsNullOrWhiteSpace(query) ? null : query.Trim();
            audit.Append(db, user, AuditActions.ItemDrillSchedule, ProtectionService.Resource(item.Vault!.Name, item.Name),
                item.DrillCheckQuery is null ? "no drill check query" : $"drill check query: {item.DrillCheckQuery}");
            await db.SaveChangesAsync(ct);
        });

    /// <summary>A policy's drill settings; null when its items are not drilled (the default).</summary>
    public async Task<DrillSettings?> GetPolicySettingsAsync(Guid policyId, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view restore drills");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.DrillSchedules.AsNoTracking().FirstOrDefaultAsync(s => s.PolicyId == policyId, ct);
        return row is null ? null : DrillSettings.From(row);
    }

    /// <summary>Sets the item's own drill settings (they override its policy's), or with null goes back to its policy's.</summary>
    public Task SetItemSettingsAsync(Guid itemId, DrillSettings? settings, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.ItemDrillSchedule, $"item/{itemId}", async user =>
        {
            Access.Require(user, "set drill schedules", Drillers);
            Validate(settings);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var item = await db.BackupItems.AsNoTracking().Include(i => i.Vault).FirstOrDefaultAsync(i => i.Id == itemId, ct)
                       ?? throw new PortalNotFoundException("This backup item no longer exists.");
            var row = await db.DrillSchedules.FirstOrDefaultAsync(s => s.ItemId == itemId, ct);
            Apply(db, ref row, settings, user, s => s.ItemId = itemId);
            audit.Append(db, user, AuditActions.ItemDrillSchedule, ProtectionService.Resource(item.Vault!.Name, item.Name),
                settings is null ? "drills as the policy says" : settings.Describe() + Rto(settings));
            await db.SaveChangesAsync(ct);
            await scheduler.SyncAllAsync(ct);
        });

    /// <summary>Sets the drill settings of a policy's items (an item's own override them); null: its items are not drilled.</summary>
    public Task SetPolicySettingsAsync(Guid policyId, DrillSettings? settings, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.PolicyDrillSchedule, $"policy/{policyId}", async user =>
        {
            Access.Require(user, "set drill schedules", Drillers);
            Validate(settings);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var policy = await db.BackupPolicies.AsNoTracking().FirstOrDefaultAsync(p => p.Id == policyId, ct)
                         ?? throw new PortalNotFoundException("This policy no longer exists.");
            var vault = await db.Vaults.AsNoTracking().Where(v => v.Id == policy.VaultId).Select(v => v.Name).FirstAsync(ct);
            var row = await db.DrillSchedules.FirstOrDefaultAsync(s => s.PolicyId == policyId, ct);
            Apply(db, ref row, settings, user, s => s.PolicyId = policyId);
            audit.Append(db, user, AuditActions.PolicyDrillSchedule, $"{vault}/policies/{policy.Name}",
                settings is null ? "no drills" : settings.Describe() + Rto(settings));
            await db.SaveChangesAsync(ct);
            await scheduler.SyncAllAsync(ct);
        });

    private static string Rto(DrillSettings settings) => settings.RtoTarget is { } t ? $", RTO target {Format.Duration(t)}" : ", no RTO target";

    private static void Validate(DrillSettings? settings)
    {
        if (settings?.Problems() is { Count: > 0 } problems)
            throw new PortalValidationException(problems);
    }

    private void Apply(PortalDbContext db, ref DrillSchedule? row, DrillSettings? settings, System.Security.Claims.ClaimsPrincipal user, Action<DrillSchedule> owner)
    {
        if (settings is null)
        {
            if (row is not null)
                db.DrillSchedules.Remove(row);
            return;
        }

        if (row is null)
        {
            row = new DrillSchedule { Id = Guid.CreateVersion7() };
            owner(row);
            db.DrillSchedules.Add(row);
        }

        settings.ApplyTo(row);
        row.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        row.UpdatedBy = user.DisplayName();
    }

    public Task<Job> RunNowAsync(Guid itemId, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.ItemDrill, $"item/{itemId}", user =>
        {
            Access.Require(user, "run restore drills", Drillers);
            return QueueDrillAsync(user, itemId, AuditActions.ItemDrill, "restore drill of the latest recovery point", ct);
        });

    /// <summary>Runs a failed drill's item's drill again (of its latest recovery point, as every drill); audited as Item.DrillRetry.</summary>
    public Task<Job> RetryAsync(Guid jobId, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.ItemDrillRetry, $"job/{jobId}", async user =>
        {
            Access.Require(user, "run restore drills", Drillers);
            var failed = await JobRetry.FailedAsync(dbFactory, jobId, j => j is { Kind: JobKind.Drill, ItemId: not null }, "restore drill", ct);
            return await QueueDrillAsync(user, failed.ItemId!.Value, AuditActions.ItemDrillRetry, $"retry of job {failed.Id}: restore drill of the latest recovery point", ct);
        });

    private async Task<Job> QueueDrillAsync(System.Security.Claims.ClaimsPrincipal user, Guid itemId, string action, string detail, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var item = await db.BackupItems.AsNoTracking().Include(i => i.Vault).FirstOrDefaultAsync(i => i.Id == itemId, ct)
                   ?? throw new PortalNotFoundException("This backup item no longer exists.");
        if (item.Kind is not (BackupItemKinds.FilesAndFolders or BackupItemKinds.PostgreSql))
            throw new PortalConflictException($"Drills of {BackupItemKinds.Display(item.Kind)} items are not available: a drill restores a files-and-folders or PostgreSQL item.");
        if (!await db.RecoveryPoints.AnyAsync(p => p.ItemId == itemId, ct))
            throw new PortalConflictException($"{item.Name} has no recovery point to drill yet: back it up first.");
        if (await BusyAsync(db, itemId, ct))
            throw new PortalConflictException($"A drill of {item.Name} is already queued or running.");
        audit.Append(db, user, action, ProtectionService.Resource(item.Vault!.Name, item.Name), detail);
        var target = new JobTarget(item.VaultId, item.Vault.Name, item.Id, item.Name, item.MachineId);
        var job = item.MachineId is null
            ? pipeline.Enqueue(db, drills, new DrillInput(item.Id), target, user.DisplayName())
            : pipeline.Enqueue(db, machineDrills, new DrillInput(item.Id), target, user.DisplayName()); // run by the machine's agent
        await db.SaveChangesAsync(ct);
        await pipeline.QueuedAsync(job, ct);
        return job;
    }

    /// <summary>The item's drills, newest first.</summary>
    public async Task<IReadOnlyList<DrillSummary>> ListAsync(Guid itemId, int take = 20, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view restore drills");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.RecoveryDrills.AsNoTracking().Where(d => d.ItemId == itemId).OrderByDescending(d => d.FinishedAt).Take(Math.Clamp(take, 1, 200))
            .Select(d => new DrillSummary(d.Id, d.Result, d.SnapshotId, d.PointCreatedAt, d.FinishedAt, d.FilesVerified, d.BytesVerified,
                d.RestoreSeconds, d.EstimatedFullRestoreSeconds, d.Detail, d.RequestedBy, d.JobId)
            { Sample = d.Sample, RtoTargetSeconds = d.RtoTargetSeconds, ConfiguredBy = d.ConfiguredBy })
            .ToListAsync(ct);
    }
}
