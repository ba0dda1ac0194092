using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Features.Vaults;

namespace Portal.Features.Protection;

/// <summary>
/// Holds the recovery points an immutable vault held before it became immutable, in their repositories (the vault's for
/// the portal host's items, each machine's for its own): a point with a retention end until then, a point kept until
/// deleted with no end (<see cref="PointRetention"/>). Run by the request that turns immutability on, so the engine's
/// forget (and so every prune) refuses them from that moment, and again by each retention run for what could not be
/// held then (a machine's repository the portal could not open). Turning an unlocked immutability off releases the holds
/// with no end; dated ones stay until their time, as the points' own keep-until does. One run per vault at a time
/// across every portal instance (a PostgreSQL advisory lock).
/// </summary>
public sealed class ImmutabilityHolds(
    IDbContextFactory<PortalDbContext> dbFactory, ItemRepositories repositories, IMachines machines, TimeProvider clock, ILogger<ImmutabilityHolds> logger) : IVaultHolds
{
    private const int LockNamespace = 0x484F4C44; // "HOLD"

    public Task<HoldReport?> HoldAsync(Guid vaultId, CancellationToken ct = default) => LockedAsync(vaultId, HoldLockedAsync, ct);

    public Task<HoldReport?> ReleaseAsync(Guid vaultId, CancellationToken ct = default) => LockedAsync(vaultId, ReleaseLockedAsync, ct);

    private async Task<HoldReport?> LockedAsync(Guid vaultId, Func<PortalDbContext, Vault, CancellationToken, Task<HoldReport?>> work, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Database.OpenConnectionAsync(ct); // the advisory lock belongs to this connection until it closes
        var key = (int)BitConverter.ToInt64(vaultId.ToByteArray(), 8);
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_lock({LockNamespace}, {key})", ct);
        try
        {
            var vault = await db.Vaults.AsNoTracking().FirstOrDefaultAsync(v => v.Id == vaultId, ct);
            return vault is null ? null : await work(db, vault, ct);
        }
        finally
        {
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock({LockNamespace}, {key})", CancellationToken.None);
        }
    }

    private async Task<HoldReport?> HoldLockedAsync(PortalDbContext db, Vault vault, CancellationToken ct)
    {
        if (!vault.IsImmutable())
            return null;
        var now = clock.GetUtcNow();
        var items = await db.BackupItems.AsNoTracking().Include(i => i.Policy)
            .Where(i => i.VaultId == vault.Id && i.State != ProtectionState.SoftDeleted).ToListAsync(ct);
        var points = (await db.RecoveryPoints.Where(p => p.VaultId == vault.Id).ToListAsync(ct)).ToLookup(p => p.ItemId);
        var toHold = new List<(PointRetention.Verdict Verdict, Guid? MachineId)>();
        foreach (var item in items)
            foreach (var verdict in PointRetention.Evaluate(item, [.. points[item.Id]], now))
                if (verdict.Point is { ImmutableUntil: null, HeldWhileImmutable: false } && (verdict.KeptUntilDeleted || verdict.KeepUntil > now))
                    toHold.Add((verdict, item.MachineId));
        if (toHold.Count == 0)
            return null;

        var (done, later) = await EachRepositoryAsync(db, vault, toHold.GroupBy(p => p.MachineId), async (engine, group) =>
        {
            var dated = group.Where(p => !p.Verdict.KeptUntilDeleted).ToDictionary(p => p.Verdict.Point.SnapshotId, p => p.Verdict.KeepUntil!.Value);
            var open = group.Where(p => p.Verdict.KeptUntilDeleted).Select(p => p.Verdict.Point.SnapshotId).ToList();
            await engine.HoldAsync(dated, open, ct);
            foreach (var (verdict, _) in group)
            {
                if (verdict.KeptUntilDeleted)
                    verdict.Point.HeldWhileImmutable = true;
                else
                    verdict.Point.ImmutableUntil = verdict.KeepUntil!.Value.UtcDateTime;
            }

            return open.Count > 0 ? $" ({open.Count} of them kept until deleted, held with no end)" : "";
        }, "they are held at the next retention run",
            why => $"could not be held yet ({why}); the next retention run tries again, and the portal refuses their removal meanwhile", ct);

        var words = (done.Count > 0 ? $"Recovery points taken before vault {vault.Name} became immutable are now held in its storage until their retention ends: {string.Join("; ", done)}." : "")
                    + (later.Count > 0 ? $" {string.Join("; ", later)}." : "");
        if (later.Count > 0)
            logger.LogWarning("Vault {Vault} is immutable: {Words}", vault.Name, words.Trim());
        else
            logger.LogInformation("Vault {Vault} is immutable: {Words}", vault.Name, words.Trim());
        return new HoldReport(words.Trim(), later.Count == 0);
    }

    private async Task<HoldReport?> ReleaseLockedAsync(PortalDbContext db, Vault vault, CancellationToken ct)
    {
        if (vault.IsImmutable())
            return null;
        var held = await db.RecoveryPoints.Where(p => p.VaultId == vault.Id && p.HeldWhileImmutable)
            .Join(db.BackupItems, p => p.ItemId, i => i.Id, (p, i) => new { Point = p, i.MachineId }).ToListAsync(ct);
        if (held.Count == 0)
            return null;
        var (done, later) = await EachRepositoryAsync(db, vault, held.GroupBy(h => h.MachineId), async (engine, group) =>
        {
            await engine.ReleaseHoldsAsync(ct);
            foreach (var h in group)
                h.Point.HeldWhileImmutable = false;
            return "";
        }, "they are released at the next retention run", why => $"stay held until the next retention run ({why})", ct);

        var words = (done.Count > 0 ? $"Recovery points kept until deleted are no longer held in vault {vault.Name}'s storage: {string.Join("; ", done)}." : "")
                    + (later.Count > 0 ? $" {string.Join("; ", later)}." : "");
        logger.LogInformation("Vault {Vault} is no longer immutable: {Words}", vault.Name, words.Trim());
        return new HoldReport(words.Trim(), later.Count == 0);
    }

    /// <summary>
    /// Applies <paramref name="apply"/> to each repository's group (its points' rows changed by it are saved as soon as
    /// its repository is done); a repository out of reach is left for the next retention run. Returns the words for
    /// what was done and what was left, one per repository.
    /// </summary>
    private async Task<(List<string> Done, List<string> Later)> EachRepositoryAsync<T>(PortalDbContext db, Vault vault, IEnumerable<IGrouping<Guid?, T>> groups,
        Func<Portal.Engine.BackupEngine, IGrouping<Guid?, T>, Task<string>> apply, string retry, Func<string, string> left, CancellationToken ct)
    {
        var done = new List<string>();
        var later = new List<string>();
        foreach (var group in groups)
        {
            var where = await RepositoryNameAsync(group.Key, ct);
            try
            {
                string more;
                using (var engine = await repositories.OpenAsync(vault.Id, vault.Name, vault.Region, group.Key, ct))
                    more = await apply(engine, group);
                await db.SaveChangesAsync(ct);
                done.Add($"{group.Count()} in {where}{more}");
            }
            catch (Exception e) when (e is not OperationCanceledException && VaultFailures.Explain(e, retry) is { } why)
            {
                later.Add($"{group.Count()} in {where} {left(why)}");
            }
        }

        return (done, later);
    }

    private async Task<string> RepositoryNameAsync(Guid? machineId, CancellationToken ct) =>
        machineId is { } id ? $"machine {(await machines.FindAsync(id, ct))?.Name ?? id.ToString()[..8]}'s repository" : "the portal host's repository";
}
