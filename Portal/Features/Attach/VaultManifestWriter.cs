using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Engine;
using Portal.Engine.Agents;
using Portal.Engine.Crypto;
using Portal.Features.Machines;
using Portal.Features.Machines.Access;
using Portal.Features.Protection;
using Portal.Features.Regions;
using Portal.Features.Vaults;

namespace Portal.Features.Attach;

/// <summary>
/// Writes each vault's manifest (<see cref="VaultManifestDocument"/>) into its own repository after a change, and a
/// machine's share of it into each machine's repository (opened with the key the machine escrowed): after a change, after
/// each backup into the one repository the backup wrote to, and every night into all of them (so a machine repository
/// written before machine manifests, or one a failed write missed, gets its manifest without waiting for a backup): the
/// vault's settings and policies, that machine and its items, but never the escrow private key nor another machine's
/// record, so one machine's passphrase opens that machine's data and nothing else. A vault whose items are all on
/// machines has no repository of its own; these copies are what lets it be attached after the catalog is lost.
/// Cheap when nothing changed: the document is built from the database and compared with the one in storage (a few small
/// reads) before anything is written. Best effort: a failure is a warning in the log.
/// </summary>
public sealed class VaultManifestWriter(
    IDbContextFactory<PortalDbContext> dbFactory, VaultKeys keys, EscrowKeys escrow, RegionStores stores, TimeProvider clock,
    ILogger<VaultManifestWriter> logger) : IVaultManifest
{
    public Task RefreshAsync(Guid vaultId, CancellationToken ct = default) => RefreshAsync(vaultId, Every, ct);

    public Task RefreshRepositoryAsync(Guid vaultId, Guid? machineId, CancellationToken ct = default) => RefreshAsync(vaultId, m => m == machineId, ct);

    /// <summary>Every repository of the vault: its own (null) and each machine's.</summary>
    private static readonly Func<Guid?, bool> Every = _ => true;

    private async Task RefreshAsync(Guid vaultId, Func<Guid?, bool> which, CancellationToken ct)
    {
        try
        {
            await WriteAsync(vaultId, ct, which);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            logger.LogWarning("The manifest of vault {VaultId} could not be written to its storage ({Reason}); the next change or backup writes it again.",
                vaultId, e.Message);
        }
    }

    /// <summary>
    /// Builds the manifest and writes it where it differs from the one in storage: the vault's repository (when the vault
    /// has one) and each machine's, or those of them <paramref name="which"/> names (null: the vault's own; a machine's
    /// id: that machine's). Returns false when nothing could hold it (no vault repository and no machine key).
    /// </summary>
    internal async Task<bool> WriteAsync(Guid vaultId, CancellationToken ct, Func<Guid?, bool>? which = null)
    {
        which ??= Every;
        if (await BuildAsync(vaultId, ct) is not { } document)
            return false;
        var written = false;
        if (which(null) && await keys.HasKeyAsync(vaultId, ct)) // else no passphrase given yet: the vault has no repository of its own
        {
            var json = document.ToJson();
            // Compared with what storage holds, not with what this instance wrote last: another portal instance may have written since.
            using var engine = await keys.OpenAsync(vaultId, document.Vault.Name, document.Vault.Region, ct);
            if ((await engine.ReadVaultManifestAsync(ct))?.Document != json)
                await engine.WriteVaultManifestAsync(json, ct);
            written = true;
        }

        return await WriteMachinesAsync(document, which, ct) | written;
    }

    /// <summary>Each machine's share of the manifest (<see cref="ForMachine"/>) into its own repository, through its escrowed key.</summary>
    private async Task<bool> WriteMachinesAsync(VaultManifestDocument document, Func<Guid?, bool> which, CancellationToken ct)
    {
        var machines = document.Machines.Where(m => m.RevokedAt is null && m.EscrowedRepositoryKey is not null && m.RepositoryId is not null && which(m.Id)).ToList();
        if (machines.Count == 0)
            return false;
        using var escrowKey = await escrow.PrivateKeyAsync(document.Vault.Id, ct);
        if (escrowKey is null)
            return false;
        var written = false;
        foreach (var machine in machines)
        {
            try
            {
                var key = SealedBox.Open(escrowKey, machine.EscrowedRepositoryKey, AgentContexts.RepositoryKey(machine.Id));
                BackupEngine engine;
                try
                {
                    engine = await BackupEngine.OpenWithKeyAsync(stores.Machine(document.Vault.Id, document.Vault.Region, machine.Id, document.Vault.Name),
                        new RepositoryKey(key), new EngineOptions { Time = clock }, cancellationToken: ct);
                }
                finally
                {
                    CryptographicOperations.ZeroMemory(key);
                }

                using (engine)
                {
                    if (engine.RepositoryId != machine.RepositoryId)
                        continue;
                    var json = ForMachine(document, machine.Id).ToJson();
                    if ((await engine.ReadVaultManifestAsync(ct))?.Document != json)
                        await engine.WriteVaultManifestAsync(json, ct);
                    written = true;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                logger.LogWarning("The manifest of vault {VaultId} could not be written to machine {Machine}'s repository ({Reason}); the next change or backup writes it again.",
                    document.Vault.Id, machine.Name, e.Message);
            }
        }

        return written;
    }

    /// <summary>
    /// What a machine's repository holds of the vault manifest: the vault and its policies, the machine (without its
    /// escrowed key, which only the vault's escrow key opens) and the machine's own items. No escrow key, no other machine.
    /// </summary>
    internal static VaultManifestDocument ForMachine(VaultManifestDocument document, Guid machineId) =>
        document with
        {
            Items = [.. document.Items.Where(i => i.MachineId == machineId)],
            Machines = [.. document.Machines.Where(m => m.Id == machineId).Select(m => m with { EscrowedRepositoryKey = null })],
            Escrow = null,
        };

    internal async Task<VaultManifestDocument?> BuildAsync(Guid vaultId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (await db.Vaults.AsNoTracking().FirstOrDefaultAsync(v => v.Id == vaultId, ct) is not { } vault)
            return null;
        var policies = await db.BackupPolicies.AsNoTracking().Where(p => p.VaultId == vaultId).OrderBy(p => p.Id).ToListAsync(ct);
        var items = await db.BackupItems.AsNoTracking().Where(i => i.VaultId == vaultId).OrderBy(i => i.Id).ToListAsync(ct);
        var machines = await db.Machines.AsNoTracking().Where(m => m.VaultId == vaultId).OrderBy(m => m.Id).ToListAsync(ct);
        ManifestEscrow? escrowKey = null;
        if (machines.Count > 0 && await escrow.PrivateKeyAsync(vaultId, ct) is { } privateKey)
        {
            using (privateKey)
                escrowKey = new ManifestEscrow(privateKey.ExportSubjectPublicKeyInfo(), privateKey.ExportPkcs8PrivateKey());
        }

        return new VaultManifestDocument(VaultManifestDocument.CurrentVersion, ManifestVault.From(vault), [.. policies.Select(ManifestPolicy.From)],
            [.. items.Select(ManifestItem.From)], [.. machines.Select(ManifestMachine.From)], escrowKey);
    }
}
