using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Engine.Operations;
using Portal.Features.Audit;
using Portal.Features.Common;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;
using Portal.Features.Vaults;

namespace Portal.Features.Protection;

/// <summary>The locks in one repository of a vault (the portal host's, or a machine's), or why they could not be read.</summary>
public sealed record RepositoryLocks(string Repository, IReadOnlyList<LockInfo> Locks, string? Unavailable = null);

/// <summary>
/// The engine locks in a vault's repositories, and "Break lock" (Backup.Contributor, audited): stale locks (their
/// process has ended, or nobody refreshed them for 30 minutes) are removed; a live lock only with force, for an operation
/// known to be dead that the portal cannot see (a machine switched off mid-backup), since a prune could otherwise delete
/// what a running backup writes. Data is never touched.
/// </summary>
public sealed class VaultMaintenance(
    IDbContextFactory<PortalDbContext> dbFactory, ICurrentUser currentUser, AuditLog audit, VaultRepositories vaultRepositories, JobPipeline pipeline, RepairIndexJob repairs)
{
    public async Task<IReadOnlyList<RepositoryLocks>> ListLocksAsync(Guid vaultId, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view a vault's locks");
        return await VisitAsync(vaultId, force: null, ct);
    }

    /// <summary>Removes stale locks, and live ones too with <paramref name="force"/>; returns every repository's locks as they were, with what was removed.</summary>
    public Task<BreakLockResult> BreakLocksAsync(Guid vaultId, bool force, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.VaultBreakLock, $"vault/{vaultId}", async user =>
        {
            Access.Require(user, "break a vault's locks", PortalRoles.Contributor);
            var removed = new List<(string Repository, LockInfo Lock)>();
            var keptLive = new List<(string Repository, LockInfo Lock)>();
            var visited = await VisitAsync(vaultId, force, ct, (repository, result) =>
            {
                removed.AddRange(result.Removed.Select(l => (repository, l)));
                keptLive.AddRange(result.KeptLive.Select(l => (repository, l)));
            });
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var vault = await db.Vaults.AsNoTracking().FirstAsync(v => v.Id == vaultId, ct);
            audit.Append(db, user, AuditActions.VaultBreakLock, VaultService.VaultResource(vault.Name),
                (force ? "forced; " : "") + (removed.Count == 0 ? "no lock removed" : "removed " + string.Join("; ", removed.Select(r => $"{Describe(r.Lock)} in {r.Repository}"))) +
                (keptLive.Count > 0 ? "; kept live: " + string.Join("; ", keptLive.Select(r => $"{Describe(r.Lock)} in {r.Repository}")) : ""));
            await db.SaveChangesAsync(ct);
            return new BreakLockResult(removed.Count, keptLive.Count,
                (removed.Count == 0 && keptLive.Count == 0 ? $"Vault {vault.Name} has no locks: nothing to break."
                : $"Removed {removed.Count} lock(s)" + (keptLive.Count > 0
                    ? $"; kept {keptLive.Count} lock(s) of operations that may still be running ({string.Join("; ", keptLive.Select(r => Describe(r.Lock)))}). Break them with force only if you know they are dead."
                    : ".")) + string.Concat(visited.Where(r => r.Unavailable is not null).Select(r => $" {r.Repository}: not reached ({r.Unavailable})")));
        });

    /// <summary>Queues "Repair the index" of every repository of the vault (Backup.Contributor; audited).</summary>
    public Task<Job> RepairIndexAsync(Guid vaultId, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.VaultRepairIndex, $"vault/{vaultId}", async user =>
        {
            Access.Require(user, "repair a vault's index", PortalRoles.Contributor);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var vault = await db.Vaults.AsNoTracking().FirstOrDefaultAsync(v => v.Id == vaultId, ct) ?? throw VaultService.Gone();
            if (await db.Jobs.AnyAsync(j => j.VaultId == vaultId && (j.Kind == JobKind.Check || j.Kind == JobKind.Repair)
                                           && (j.Status == JobStatus.Queued || j.Status == JobStatus.InProgress || j.Status == JobStatus.Cancelling), ct))
                throw new PortalConflictException($"A check or repair of vault {vault.Name} is already queued or running.");
            audit.Append(db, user, AuditActions.VaultRepairIndex, VaultService.VaultResource(vault.Name), "rebuild the index of each repository from its packs");
            var job = pipeline.Enqueue(db, repairs, new RepairIndexInput(vault.Id), new JobTarget(vault.Id, vault.Name, null, "repair index"), user.DisplayName());
            await db.SaveChangesAsync(ct);
            await pipeline.QueuedAsync(job, ct);
            return job;
        });

    public static string Describe(LockInfo l) =>
        $"{l.Operation} on {l.Host} (pid {l.Pid}) since {l.Since.UtcDateTime:yyyy-MM-dd HH:mm} UTC" + (l.StaleBecause is { } why ? $", stale: {why}" : ", live");

    /// <summary>Lists (force null) or unlocks each repository of the vault: the portal host's if it has one, then each machine's with items here.</summary>
    private async Task<IReadOnlyList<RepositoryLocks>> VisitAsync(Guid vaultId, bool? force, CancellationToken ct, Action<string, UnlockResult>? unlocked = null)
    {
        var (vault, targets) = await vaultRepositories.TargetsAsync(vaultId, ct);
        var found = new List<RepositoryLocks>();
        foreach (var (name, machine) in targets)
        {
            try
            {
                using var engine = await vaultRepositories.OpenAsync(vault, machine, ct);
                var locks = await engine.ListLocksAsync(ct);
                if (force is { } f)
                    unlocked?.Invoke(name, await engine.UnlockAsync(f, ct));
                found.Add(new RepositoryLocks(name, locks));
            }
            catch (Exception e) when (e is not OperationCanceledException && VaultFailures.Explain(e, "nothing was changed") is { } why)
            {
                found.Add(new RepositoryLocks(name, [], why));
            }
        }

        return found;
    }
}

/// <summary>What "Break lock" did, in counts and in words.</summary>
public sealed record BreakLockResult(int Removed, int KeptLive, string Message);
