using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Engine;
using Portal.Engine.Agents;
using Portal.Engine.Crypto;
using Portal.Features.Regions;
using Portal.Features.Vaults;

namespace Portal.Features.Machines.Access;

/// <summary>The portal cannot open a machine's repository: the machine never sent its key, or this host cannot unseal it.</summary>
public sealed class MachineKeyUnavailableException(string message) : Exception(message);

/// <summary>
/// Machines' repository keys in escrow: a machine seals its key to its vault's escrow key and sends it once after
/// init; the portal opens the machine's repository with it (retention, prune, browsing, downloads) and seals it to
/// another machine of the vault for a restore job (a grant).
/// </summary>
public sealed class MachineKeys(
    IDbContextFactory<PortalDbContext> dbFactory, EscrowKeys escrow, RegionStores stores, IEnumerable<IVaultManifest> manifests, TimeProvider clock)
{
    private EngineOptions EngineOptions => new() { Time = clock };

    /// <summary>
    /// Keeps the repository key <paramref name="machineId"/> sent (sealed to the vault's escrow key, context
    /// <see cref="AgentContexts.RepositoryKey"/>) after checking that it opens the machine's repository, whose id must be
    /// <see cref="RepositoryKeyRequest.RepositoryId"/>. Refusals are <see cref="AgentRefusedException"/>s. Returns the
    /// audit resource ("vault V / machine M").
    /// </summary>
    public async Task<string> AcceptAsync(Guid machineId, RepositoryKeyRequest request, CancellationToken ct = default)
    {
        var (machine, region, vaultName) = await FindAsync(machineId, ct) ?? throw new AgentRefusedException(404, "This machine is not registered with this portal.");
        byte[] box;
        try
        {
            box = Convert.FromBase64String(request.EscrowedKey ?? "");
        }
        catch (FormatException)
        {
            throw new AgentRefusedException(400, "The escrowed key is not base64: update the agent.");
        }

        if (string.IsNullOrWhiteSpace(request.RepositoryId) || request.RepositoryId.Length > 64)
            throw new AgentRefusedException(400, "Give the repository's id (at most 64 characters) with its key.");
        if (machine.RepositoryId is { } known && known != request.RepositoryId)
            throw new AgentRefusedException(409,
                $"This machine's repository is {known}; the portal keeps its key and will not replace it with the key of repository {request.RepositoryId}.");

        var key = await OpenBoxAsync(machine, vaultName, box, ct);
        try
        {
            BackupEngine engine;
            try
            {
                engine = await BackupEngine.OpenWithKeyAsync(stores.Machine(machine.VaultId, region, machine.Id, vaultName), new RepositoryKey(key), EngineOptions,
                    cancellationToken: ct);
            }
            catch (RepositoryNotFoundException)
            {
                throw new AgentRefusedException(409, "This machine has no repository in the vault yet: create it (the agent's init), then send its key.");
            }
            catch (RepositoryKeyMismatchException)
            {
                throw new AgentRefusedException(400, "The key sent does not open this machine's repository: it is not this repository's key.");
            }

            using (engine)
                if (engine.RepositoryId != request.RepositoryId)
                    throw new AgentRefusedException(400,
                        $"The key opens repository {engine.RepositoryId}, not {request.RepositoryId} as the agent said: the agent's state folder is out of date.");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.Machines.FirstAsync(m => m.Id == machineId, ct);
        if (row.RepositoryId is { } stored && stored != request.RepositoryId)
            throw new AgentRefusedException(409,
                $"This machine's repository is {stored}; the portal keeps its key and will not replace it with the key of repository {request.RepositoryId}.");
        row.RepositoryId = request.RepositoryId;
        row.EscrowedRepositoryKey = box;
        await db.SaveChangesAsync(ct);
        await manifests.RefreshAsync(row.VaultId, ct); // the vault manifest carries the escrowed key: the machine's backups survive a lost catalog
        return $"vault {vaultName} / machine {machine.Name}";
    }

    /// <summary>Opens <paramref name="machineId"/>'s repository with its escrowed key (the caller disposes the engine).</summary>
    /// <exception cref="MachineKeyUnavailableException">The machine never sent its key, or this host cannot unseal or use it.</exception>
    public async Task<BackupEngine> OpenAsync(Guid machineId, CancellationToken ct = default)
    {
        var (machine, region, vaultName) = await FindAsync(machineId, ct)
            ?? throw new MachineKeyUnavailableException($"Machine {machineId:N} is not registered with this portal.");
        var key = await RepositoryKeyAsync(machine, vaultName, ct);
        try
        {
            var engine = await BackupEngine.OpenWithKeyAsync(stores.Machine(machine.VaultId, region, machine.Id, vaultName), new RepositoryKey(key), EngineOptions,
                cancellationToken: ct);
            if (engine.RepositoryId != machine.RepositoryId)
            {
                engine.Dispose();
                throw new MachineKeyUnavailableException(
                    $"The backup data of machine {machine.Name} belongs to another repository ({engine.RepositoryId}) than the key the portal keeps ({machine.RepositoryId}).");
            }

            return engine;
        }
        catch (RepositoryKeyMismatchException)
        {
            throw new MachineKeyUnavailableException($"The key the portal keeps does not open machine {machine.Name}'s backup data.");
        }
        catch (RepositoryNotFoundException)
        {
            throw new MachineKeyUnavailableException($"Machine {machine.Name}'s repository is missing from vault {vaultName}'s storage.");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>
    /// The repository key of <paramref name="sourceMachineId"/> sealed to <paramref name="targetMachineId"/>'s agreement key for
    /// restore job <paramref name="jobId"/> (context <see cref="AgentContexts.Grant"/>), base64: the
    /// <see cref="MachineRestoreInput.GrantedKey"/> sent to the target (never stored).
    /// </summary>
    /// <exception cref="MachineKeyUnavailableException">The source's key is not available, or the machines are not of one vault.</exception>
    public async Task<string> GrantAsync(Guid sourceMachineId, Guid targetMachineId, Guid jobId, CancellationToken ct = default)
    {
        var (source, _, vaultName) = await FindAsync(sourceMachineId, ct)
            ?? throw new MachineKeyUnavailableException($"Machine {sourceMachineId:N} is not registered with this portal.");
        var (target, _, _) = await FindAsync(targetMachineId, ct)
            ?? throw new MachineKeyUnavailableException($"Machine {targetMachineId:N} is not registered with this portal.");
        if (target.VaultId != source.VaultId)
            throw new MachineKeyUnavailableException($"Machine {target.Name} is not in vault {vaultName}: it can restore only its own vault's backups.");
        if (target.IsRevoked)
            throw new MachineKeyUnavailableException($"Machine {target.Name} is revoked: it cannot receive backups.");
        var key = await RepositoryKeyAsync(source, vaultName, ct);
        try
        {
            return Convert.ToBase64String(SealedBox.Seal(target.AgreementKey, key, AgentContexts.Grant(jobId)));
        }
        catch (CryptographicException)
        {
            throw new MachineKeyUnavailableException($"Machine {target.Name}'s agreement key cannot be used: register it again.");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    private async Task<byte[]> RepositoryKeyAsync(Machine machine, string vaultName, CancellationToken ct)
    {
        if (machine.EscrowedRepositoryKey is not { } box || machine.RepositoryId is null)
            throw new MachineKeyUnavailableException(
                $"Machine {machine.Name} has not sent its repository key yet: it sends it after creating its repository (the agent's init); until then only the machine can read its backups.");
        try
        {
            return await OpenBoxAsync(machine, vaultName, box, ct);
        }
        catch (AgentRefusedException e)
        {
            throw new MachineKeyUnavailableException(e.Message);
        }
    }

    private async Task<byte[]> OpenBoxAsync(Machine machine, string vaultName, byte[] box, CancellationToken ct)
    {
        ECDiffieHellman? escrowKey;
        try
        {
            escrowKey = await escrow.PrivateKeyAsync(machine.VaultId, ct);
        }
        catch (CryptographicException)
        {
            throw new MachineKeyUnavailableException(
                $"This portal host cannot unseal vault {vaultName}'s escrow key: its Data Protection key ring (Protection:KeyRingPath) is not the one that sealed it. " +
                "Point every portal host at the same key ring.");
        }

        using (escrowKey)
        {
            if (escrowKey is null)
                throw new AgentRefusedException(409, $"Vault {vaultName} has no escrow key: register the machine again.");
            byte[] key;
            try
            {
                key = SealedBox.Open(escrowKey, box, AgentContexts.RepositoryKey(machine.Id));
            }
            catch (CryptographicException)
            {
                throw new AgentRefusedException(400,
                    $"The escrowed key is not sealed to vault {vaultName}'s escrow key for machine {machine.Name}: seal it with the key the portal gave at registration.");
            }

            if (key.Length != 32)
            {
                CryptographicOperations.ZeroMemory(key);
                throw new AgentRefusedException(400, "The escrowed secret is not a repository key (32 bytes): update the agent.");
            }

            return key;
        }
    }

    private async Task<(Machine Machine, string Region, string VaultName)?> FindAsync(Guid machineId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.Machines.AsNoTracking().Where(m => m.Id == machineId)
            .Join(db.Vaults, m => m.VaultId, v => v.Id, (m, v) => new { Machine = m, v.Region, v.Name })
            .FirstOrDefaultAsync(ct);
        return row is null ? null : (row.Machine, row.Region, row.Name);
    }
}
