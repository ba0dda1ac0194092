using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Engine;
using Portal.Features.Protection;

namespace Portal.Features.Machines;

/// <summary>The registered machines as protection sees them (<see cref="IMachines"/>).</summary>
internal sealed class ProtectionMachines(IDbContextFactory<PortalDbContext> dbFactory, Access.MachineKeys keys, MachineFolders folders, TimeProvider clock) : IMachines
{
    public async Task<FolderListing> ListFoldersAsync(Guid machineId, string? path, int max, CancellationToken ct)
    {
        try
        {
            return await folders.ListAsync(machineId, path, max, ct);
        }
        catch (MachineFolderException e)
        {
            throw new Common.PortalValidationException("SourcePath", e.Message);
        }
    }

    public async Task<IReadOnlyList<MachineInfo>> ListAsync(Guid vaultId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var machines = await db.Machines.AsNoTracking().Where(m => m.VaultId == vaultId && m.RevokedAt == null).OrderBy(m => m.NormalizedName).ToListAsync(ct);
        return [.. machines.Select(Info)];
    }

    public async Task<IReadOnlyDictionary<Guid, string>> NamesAsync(IReadOnlyCollection<Guid> machineIds, CancellationToken ct)
    {
        if (machineIds.Count == 0)
            return new Dictionary<Guid, string>();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Machines.AsNoTracking().Where(m => machineIds.Contains(m.Id)).ToDictionaryAsync(m => m.Id, m => m.Name, ct);
    }

    public async Task<MachineInfo?> FindAsync(Guid machineId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var m = await db.Machines.AsNoTracking().FirstOrDefaultAsync(x => x.Id == machineId, ct);
        return m is null ? null : Info(m);
    }

    private MachineInfo Info(Machine m) =>
        new(m.Id, m.VaultId, m.Name, m.IsRevoked, MachinePresence.IsOnline(m, clock.GetUtcNow().UtcDateTime), MachinePresence.OfflineSince(m));

    public async Task<BackupEngine> OpenRepositoryAsync(Guid machineId, CancellationToken ct)
    {
        try
        {
            return await keys.OpenAsync(machineId, ct);
        }
        catch (Access.MachineKeyUnavailableException e)
        {
            throw new VaultLockedException(e.Message); // protection's words for "the portal cannot open these backups"
        }
    }

    public async Task<string> GrantAsync(Guid sourceMachineId, Guid targetMachineId, Guid jobId, CancellationToken ct)
    {
        try
        {
            return await keys.GrantAsync(sourceMachineId, targetMachineId, jobId, ct);
        }
        catch (Access.MachineKeyUnavailableException e)
        {
            throw new VaultLockedException(e.Message);
        }
    }
}
