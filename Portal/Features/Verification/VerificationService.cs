using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Features.Audit;
using Portal.Features.Common;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;
using Portal.Features.Protection;
using Portal.Features.Vaults;

namespace Portal.Features.Verification;

/// <summary>A vault's verification schedule as its page edits it.</summary>
public sealed record VerificationSettings(bool Enabled, int PeriodDays, int NightlyReadBudgetGiB);

/// <summary>Where one repository's reading stands, in words for the vault page.</summary>
public sealed record RepositoryVerificationView(
    string Repository, DateTime? LastCheckedAt, int LastProblems, Guid? LastJobId, int PacksTotal, long BytesTotal,
    DateTime? PassStartedAt, long PassBytesRead, DateTime? LastPassStartedAt, DateTime? LastPassCompletedAt);

public sealed record VerificationView(VerificationSettings Settings, DateTime? ChangedAt, string? ChangedBy, IReadOnlyList<RepositoryVerificationView> Repositories);

/// <summary>
/// Scheduled verification of vaults (issue 22): read the schedule and where each repository's pass stands, change the
/// schedule (Backup.Contributor; audited), verify now (Backup.Contributor, Backup.Operator; audited), and the nightly run
/// that queues one verification per vault with the schedule on and checks every vault's manifest in all its repositories.
/// </summary>
public sealed class VerificationService(
    IDbContextFactory<PortalDbContext> dbFactory, ICurrentUser currentUser, AuditLog audit, JobPipeline pipeline, VerificationJob verifications,
    VaultRepositories repositories, IEnumerable<IVaultManifest> manifests, TimeProvider clock)
{
    public const int MaxPeriodDays = 365;
    public const int MaxNightlyReadBudgetGiB = 1_000_000;
    private static readonly string[] Verifiers = [PortalRoles.Contributor, PortalRoles.Operator];

    public async Task<VerificationView> GetAsync(Guid vaultId, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view a vault's verification");
        var (_, targets) = await repositories.TargetsAsync(vaultId, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var settings = await db.VaultVerifications.AsNoTracking().FirstOrDefaultAsync(v => v.VaultId == vaultId, ct) ?? new VaultVerification { VaultId = vaultId };
        var states = await db.RepositoryVerifications.AsNoTracking().Where(r => r.VaultId == vaultId).ToDictionaryAsync(r => r.Repository, ct);
        return new VerificationView(ToSettings(settings), settings.ChangedAt, settings.ChangedBy, [.. targets.Select(t =>
        {
            var s = states.GetValueOrDefault(t.MachineId?.ToString() ?? RepositoryVerification.HostRepository);
            return new RepositoryVerificationView(t.Name, s?.LastCheckedAt, s?.LastProblems ?? 0, s?.LastJobId, s?.PacksTotal ?? 0, s?.BytesTotal ?? 0,
                s?.PassStartedAt, s?.PassBytesRead ?? 0, s?.LastPassStartedAt, s?.LastPassCompletedAt);
        })]);
    }

    public Task SaveAsync(Guid vaultId, VerificationSettings settings, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.VaultVerificationSettings, $"vault/{vaultId}", async user =>
        {
            Access.Require(user, "change a vault's verification schedule", PortalRoles.Contributor);
            var errors = new Dictionary<string, string>();
            if (settings.PeriodDays is < 1 or > MaxPeriodDays)
                errors["PeriodDays"] = $"Read every pack once in 1 to {MaxPeriodDays} days.";
            if (settings.NightlyReadBudgetGiB is < 1 or > MaxNightlyReadBudgetGiB)
                errors["NightlyReadBudgetGiB"] = $"The nightly read budget is 1 to {MaxNightlyReadBudgetGiB:N0} GiB.";
            if (errors.Count > 0)
                throw new PortalValidationException(errors);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var vault = await db.Vaults.AsNoTracking().FirstOrDefaultAsync(v => v.Id == vaultId, ct) ?? throw VaultService.Gone();
            var row = await db.VaultVerifications.FirstOrDefaultAsync(v => v.VaultId == vaultId, ct);
            if (row is null)
                db.VaultVerifications.Add(row = new VaultVerification { VaultId = vaultId });
            row.Enabled = settings.Enabled;
            row.PeriodDays = settings.PeriodDays;
            row.NightlyReadBudgetBytes = (long)settings.NightlyReadBudgetGiB << 30;
            row.ChangedAt = clock.GetUtcNow().UtcDateTime;
            row.ChangedBy = user.DisplayName();
            audit.Append(db, user, AuditActions.VaultVerificationSettings, VaultService.VaultResource(vault.Name),
                settings.Enabled ? $"nightly; every pack read once in {settings.PeriodDays} days, at most {settings.NightlyReadBudgetGiB} GiB a night" : "off");
            await db.SaveChangesAsync(ct);
        });

    /// <summary>Queues the vault's next verification now: the structure, and the next window of its packs.</summary>
    public Task<Job> RunNowAsync(Guid vaultId, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.VaultVerify, $"vault/{vaultId}", user =>
        {
            Access.Require(user, "verify vaults", Verifiers);
            return QueueAsync(user, vaultId, AuditActions.VaultVerify, "structure and the next share of the data", ct);
        });

    /// <summary>Runs a failed verification of a vault again (the vault's next share of packs, as every verification); audited as Vault.VerifyRetry.</summary>
    public Task<Job> RetryAsync(Guid jobId, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.VaultVerifyRetry, $"job/{jobId}", async user =>
        {
            Access.Require(user, "verify vaults", Verifiers);
            var failed = await JobRetry.FailedAsync(dbFactory, jobId, j => j.Operation == verifications.Name && j.VaultId is not null, "verification", ct);
            return await QueueAsync(user, failed.VaultId!.Value, AuditActions.VaultVerifyRetry, $"retry of job {failed.Id}: structure and the next share of the data", ct);
        });

    private async Task<Job> QueueAsync(System.Security.Claims.ClaimsPrincipal user, Guid vaultId, string action, string detail, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var vault = await db.Vaults.AsNoTracking().FirstOrDefaultAsync(v => v.Id == vaultId, ct) ?? throw VaultService.Gone();
        if ((await repositories.TargetsAsync(vaultId, ct)).Targets.Count == 0)
            throw new PortalConflictException($"Vault {vault.Name} holds no backup data yet: protect an item in it first.");
        if (await CheckPendingAsync(db, vaultId, ct))
            throw new PortalConflictException($"A check or verification of vault {vault.Name} is already queued or running.");
        audit.Append(db, user, action, VaultService.VaultResource(vault.Name), detail);
        var job = pipeline.Enqueue(db, verifications, new VerificationInput(vault.Id), Target(vault), user.DisplayName());
        await db.SaveChangesAsync(ct);
        await pipeline.QueuedAsync(job, ct);
        return job;
    }

    /// <summary>
    /// The nightly run: one verification per vault with its schedule on and backup data, unless one is already waiting;
    /// then every vault's manifest is checked in each of its repositories (a backup checks only the repository it wrote
    /// to, so a machine that has not backed up since machine manifests existed gets its copy here).
    /// </summary>
    internal async Task RunScheduledAsync(CancellationToken ct)
    {
        List<Vault> vaults;
        List<Guid> every;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var off = db.VaultVerifications.Where(v => !v.Enabled).Select(v => v.VaultId);
            vaults = await db.Vaults.AsNoTracking().Where(v => !off.Contains(v.Id)).OrderBy(v => v.Name).ToListAsync(ct);
            every = await db.Vaults.AsNoTracking().OrderBy(v => v.Name).Select(v => v.Id).ToListAsync(ct);
        }
        await QueueAsync(vaults, ct);
        foreach (var vaultId in every)
            await manifests.RefreshAsync(vaultId, ct); // best effort: a failure is a warning in the log, and the next night tries again
    }

    private async Task QueueAsync(List<Vault> vaults, CancellationToken ct)
    {
        foreach (var vault in vaults)
        {
            if ((await repositories.TargetsAsync(vault.Id, ct)).Targets.Count == 0)
                continue;
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            if (await CheckPendingAsync(db, vault.Id, ct))
                continue;
            var job = pipeline.Enqueue(db, verifications, new VerificationInput(vault.Id), Target(vault), "schedule");
            await db.SaveChangesAsync(ct);
            await pipeline.QueuedAsync(job, ct);
        }
    }

    private static Task<bool> CheckPendingAsync(PortalDbContext db, Guid vaultId, CancellationToken ct) =>
        db.Jobs.AnyAsync(j => j.VaultId == vaultId && (j.Kind == JobKind.Check || j.Kind == JobKind.Repair)
                              && (j.Status == JobStatus.Queued || j.Status == JobStatus.InProgress || j.Status == JobStatus.Cancelling), ct);

    private static JobTarget Target(Vault vault) => new(vault.Id, vault.Name, null, "verification");

    private static VerificationSettings ToSettings(VaultVerification v) => new(v.Enabled, v.PeriodDays, (int)Math.Clamp(v.NightlyReadBudgetBytes >> 30, 1, MaxNightlyReadBudgetGiB));
}
