using Portal.Engine;
using Portal.Features.Common;

namespace Portal.Features.Protection;

/// <summary>
/// What protection needs of the registered machines (implemented by the Machines feature, which sits above this one):
/// who a machine is, and its own repository opened with the key it escrowed to the vault.
/// </summary>
public interface IMachines
{
    /// <summary>The vault's machines that are not revoked, by name.</summary>
    Task<IReadOnlyList<MachineInfo>> ListAsync(Guid vaultId, CancellationToken ct);

    /// <summary>The names of these machines (those that exist), in one look-up.</summary>
    Task<IReadOnlyDictionary<Guid, string>> NamesAsync(IReadOnlyCollection<Guid> machineIds, CancellationToken ct);

    /// <summary>The machine, or null when no machine has that id.</summary>
    Task<MachineInfo?> FindAsync(Guid machineId, CancellationToken ct);

    /// <summary>
    /// The machine's repository, opened in the portal (retention, verification of a new recovery point, browsing). Throws
    /// <see cref="VaultLockedException"/> with words when the portal cannot open it (the machine never sent its key).
    /// </summary>
    Task<BackupEngine> OpenRepositoryAsync(Guid machineId, CancellationToken ct);

    /// <summary>
    /// The key of <paramref name="sourceMachineId"/>'s repository sealed to <paramref name="targetMachineId"/> for one restore
    /// job (base64; never stored): the target reads the source's backups only while that job runs.
    /// </summary>
    Task<string> GrantAsync(Guid sourceMachineId, Guid targetMachineId, Guid jobId, CancellationToken ct);

    /// <summary>
    /// The folders one level below <paramref name="path"/> on the machine (null: the folders its agent lets the portal back
    /// up), at most <paramref name="max"/> named, as its agent lists them. Throws <see cref="PortalValidationException"/>
    /// (field SourcePath) with words when it cannot: the machine is offline or silent, or its answer was not valid.
    /// </summary>
    Task<FolderListing> ListFoldersAsync(Guid machineId, string? path, int max, CancellationToken ct);
}

/// <summary>A registered machine as protection sees it.</summary>
public sealed record MachineInfo(Guid Id, Guid VaultId, string Name, bool Revoked, bool Online, DateTime? OfflineSince);
