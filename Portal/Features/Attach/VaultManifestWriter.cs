using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Features.Machines.Access;
using Portal.Features.Protection;
using Portal.Features.Vaults;

namespace Portal.Features.Attach;

/// <summary>
/// Writes each vault's manifest (<see cref="VaultManifestDocument"/>) into its own repository after a change and on every
/// backup. Cheap when nothing changed: the document is built from the database and compared with the one in storage
/// (a few small reads) before anything is written. Best effort: a failure is a warning in the log.
/// </summary>
public sealed class VaultManifestWriter(
    IDbContextFactory<PortalDbContext> dbFactory, VaultKeys keys, EscrowKeys escrow, ILogger<VaultManifestWriter> logger) : IVaultManifest
{
    public async Task RefreshAsync(Guid vaultId, CancellationToken ct = default)
    {
        try
        {
            await WriteAsync(vaultId, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            logger.LogWarning("The manifest of vault {VaultId} could not be written to its storage ({Reason}); the next change or backup writes it again.",
                vaultId, e.Message);
        }
    }

    /// <summary>Builds the manifest and writes it when it differs from the one in storage; returns false when the vault has no repository yet.</summary>
    internal async Task<bool> WriteAsync(Guid vaultId, CancellationToken ct)
    {
        if (!await keys.HasKeyAsync(vaultId, ct))
            return false; // no passphrase given yet: the vault has no repository of its own to hold a manifest
        if (await BuildAsync(vaultId, ct) is not { } document)
            return false;
        var json = document.ToJson();
        // Compared with what storage holds, not with what this instance wrote last: another portal instance may have written since.
        using var engine = await keys.OpenAsync(vaultId, document.Vault.Name, document.Vault.Region, ct);
        if ((await engine.ReadVaultManifestAsync(ct))?.Document != json)
            await engine.WriteVaultManifestAsync(json, ct);
        return true;
    }

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
