using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Features.Vaults;

namespace Portal.Features.Protection;

/// <summary>
/// Every repository of a vault: the portal host's (if it has one) and each machine's with items in the vault, by name.
/// Maintenance (locks, index repair) visits them all.
/// </summary>
public sealed class VaultRepositories(IDbContextFactory<PortalDbContext> dbFactory, VaultKeys keys, ItemRepositories repositories, IMachines machineDirectory)
{
    /// <summary>
    /// Opens every repository of the vault (the portal host's if it has one, then each machine's with items here, by name):
    /// the caller disposes each engine; a repository that cannot be opened comes with the reason instead.
    /// </summary>
    internal async Task<IReadOnlyList<(string Repository, Engine.BackupEngine? Engine, string? Unavailable)>> OpenAllAsync(Guid vaultId, CancellationToken ct)
    {
        var (vault, targets) = await TargetsAsync(vaultId, ct);
        var opened = new List<(string, Engine.BackupEngine?, string?)>();
        foreach (var (name, machineId) in targets)
        {
            try
            {
                opened.Add((name, await OpenAsync(vault, machineId, ct), null));
            }
            catch (Exception e) when (e is not OperationCanceledException && VaultFailures.Explain(e, "nothing was changed") is { } why)
            {
                opened.Add((name, null, why));
            }
        }

        return opened;
    }

    /// <summary>The vault, and its repositories by name: the portal host's if it has one, then each machine's with items here.</summary>
    internal async Task<(Vault Vault, List<(string Name, Guid? MachineId)> Targets)> TargetsAsync(Guid vaultId, CancellationToken ct)
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
        return (vault, targets);
    }

    internal Task<Engine.BackupEngine> OpenAsync(Vault vault, Guid? machine, CancellationToken ct) =>
        repositories.OpenAsync(vault.Id, vault.Name, vault.Region, machine, ct);
}
