using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Engine.Operations;
using Portal.Features.Audit;
using Portal.Features.Common;
using Portal.Features.Identity;
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
public sealed class VaultLocks(
    IDbContextFactory<PortalDbContext> dbFactory, ICurrentUser currentUser, AuditLog audit, VaultKeys keys, ItemRepositories repositories, IMachines machineDirectory)
{
    public async Task<IReadOnlyList<RepositoryLocks>> ListAsync(Guid vaultId, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view a vault's locks");
        return await VisitAsync(vaultId, force: null, ct);
    }

    /// <summary>Removes stale locks, and live ones too with <paramref name="force"/>; returns every repository's locks as they were, with what was removed.</summary>
    public Task<BreakLockResult> BreakAsync(Guid vaultId, bool force, CancellationToken ct = default) =>
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

    public static string Describe(LockInfo l) =>
        $"{l.Operation} on {l.Host} (pid {l.Pid}) since {l.Since.UtcDateTime:yyyy-MM-dd HH:mm} UTC" + (l.StaleBecause is { } why ? $", stale: {why}" : ", live");

    /// <summary>Lists (force null) or unlocks each repository of the vault: the portal host's if it has one, then each machine's with items here.</summary>
    private async Task<IReadOnlyList<RepositoryLocks>> VisitAsync(Guid vaultId, bool? force, CancellationToken ct, Action<string, UnlockResult>? unlocked = null)
    {
        Vault vault;
        List<(Guid Id, string Name)> machines;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            vault = await db.Vaults.AsNoTracking().FirstOrDefaultAsync(v => v.Id == vaultId, ct) ?? throw VaultService.Gone();
            var ids = await db.BackupItems.AsNoTracking().Where(i => i.VaultId == vaultId && i.MachineId != null).Select(i => i.MachineId!.Value).Distinct().ToListAsync(ct);
            machines = [];
            foreach (var id in ids)
                machines.Add((id, (await machineDirectory.FindAsync(id, ct))?.Name ?? id.ToString()[..8]));
            machines.Sort((a, b) => StringComparer.OrdinalIgnoreCase.Compare(a.Name, b.Name));
        }

        var targets = new List<(string Name, Guid? MachineId)>();
        if (await keys.HasKeyAsync(vaultId, ct))
            targets.Add(("the portal host's repository", null));
        targets.AddRange(machines.Select(m => ($"machine {m.Name}'s repository", (Guid?)m.Id)));

        var found = new List<RepositoryLocks>();
        foreach (var (name, machine) in targets)
        {
            try
            {
                using var engine = await OpenRepositoryAsync(vault, machine, ct);
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

    private Task<Engine.BackupEngine> OpenRepositoryAsync(Vault vault, Guid? machine, CancellationToken ct) =>
        repositories.OpenAsync(vault.Id, vault.Name, vault.Region, machine, ct);
}

/// <summary>What "Break lock" did, in counts and in words.</summary>
public sealed record BreakLockResult(int Removed, int KeptLive, string Message);
