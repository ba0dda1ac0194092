using Portal.Engine;

namespace Portal.Features.Protection;

/// <summary>
/// What protection needs of the registered machines (implemented by the Machines feature, which sits above this one):
/// who a machine is, and its own repository opened with the key it escrowed to the vault.
/// </summary>
public interface IMachines
{
    /// <summary>The machine, or null when no machine has that id.</summary>
    Task<MachineInfo?> FindAsync(Guid machineId, CancellationToken ct);

    /// <summary>
    /// The machine's repository, opened in the portal (retention, verification of a new recovery point, browsing). Throws
    /// <see cref="VaultLockedException"/> with words when the portal cannot open it (the machine never sent its key).
    /// </summary>
    Task<BackupEngine> OpenRepositoryAsync(Guid machineId, CancellationToken ct);
}

/// <summary>A registered machine as protection sees it.</summary>
public sealed record MachineInfo(Guid Id, Guid VaultId, string Name, bool Revoked, bool Online, DateTime? OfflineSince);
