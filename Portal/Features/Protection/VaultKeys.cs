using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Engine;
using Portal.Engine.Storage;
using Portal.Features.Common;
using Portal.Features.Vaults;
using Portal.Data;
using Portal.Features.Regions;

namespace Portal.Features.Protection;

/// <summary>
/// Vault keys for unattended backups. The passphrase wraps the repository key in the store (the engine's key
/// object); this portal keeps the unwrapped key only sealed with ASP.NET Core Data Protection, whose key ring lives
/// in <see cref="ProtectionOptions.KeyRingPath"/> (or is wrapped by Azure Key Vault). The passphrase itself is never
/// kept, and the database holds only the sealed key: a host without the key ring, or the CLI, needs the passphrase.
/// </summary>
public sealed class VaultKeys(
    IDbContextFactory<PortalDbContext> dbFactory,
    RegionStores stores,
    IDataProtectionProvider dataProtection,
    IOptions<ProtectionOptions> options,
    TimeProvider clock)
{
    private readonly IDataProtector protector = dataProtection.CreateProtector("Portal.VaultKeys.v1");

    private EngineOptions EngineOptions => new() { Time = clock, Kdf = options.Value.Kdf };

    /// <summary>Whether this portal holds the key of <paramref name="vaultId"/> (its passphrase was given once).</summary>
    public async Task<bool> HasKeyAsync(Guid vaultId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.VaultKeys.AnyAsync(k => k.VaultId == vaultId, ct);
    }

    /// <summary>
    /// Unlocks the vault with its passphrase: creates the vault's repository if it has none yet, otherwise opens it
    /// (a wrong passphrase is a validation error on <c>Passphrase</c>), and keeps the sealed key.
    /// </summary>
    public async Task UnlockAsync(Vault vault, string passphrase, string by, CancellationToken ct = default)
    {
        IObjectStore store;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            store = await UploadLimitsService.StoreAsync(db, stores, vault.Id, vault.Region, vault.Name, ct);
        BackupEngine engine;
        try
        {
            engine = await BackupEngine.OpenAsync(store, passphrase, EngineOptions, cancellationToken: ct);
        }
        catch (RepositoryNotFoundException)
        {
            engine = await BackupEngine.InitAsync(store, passphrase, EngineOptions, cancellationToken: ct);
        }
        catch (WrongPassphraseException)
        {
            throw new PortalValidationException("Passphrase",
                $"That is not the passphrase of vault {vault.Name}. Its backup data was encrypted with another one; type that passphrase.");
        }
        catch (StoreException e)
        {
            throw new PortalConflictException(
                $"The storage of region {vault.Region} cannot be reached ({e.Message}). Nothing was saved; check the region's replicas and try again.");
        }

        using (engine)
        {
            var sealedKey = protector.Protect(engine.ExportKey().ToBytes());
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var row = await db.VaultKeys.FirstOrDefaultAsync(k => k.VaultId == vault.Id, ct);
            if (row is null)
                db.VaultKeys.Add(row = new VaultKey { VaultId = vault.Id });
            row.RepositoryId = engine.RepositoryId;
            row.SealedKey = sealedKey;
            row.CreatedAt = clock.GetUtcNow().UtcDateTime;
            row.CreatedBy = by;
            await db.SaveChangesAsync(ct);
        }
    }

    /// <summary>Opens the vault's repository with the sealed key, for a backup, restore or retention run.</summary>
    /// <exception cref="VaultLockedException">This portal does not hold (or cannot unseal) the vault's key.</exception>
    public async Task<BackupEngine> OpenAsync(Guid vaultId, string vaultName, string region, CancellationToken ct = default)
    {
        VaultKey? row;
        IObjectStore store;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            row = await db.VaultKeys.AsNoTracking().FirstOrDefaultAsync(k => k.VaultId == vaultId, ct);
            store = await UploadLimitsService.StoreAsync(db, stores, vaultId, region, vaultName, ct);
        }

        if (row is null)
            throw new VaultLockedException($"Vault {vaultName} has no passphrase yet: configure protection of an item in it, which asks for one.");
        byte[] key;
        try
        {
            key = protector.Unprotect(row.SealedKey);
        }
        catch (CryptographicException)
        {
            throw new VaultLockedException(
                $"This portal host cannot unseal the key of vault {vaultName}: its Data Protection key ring (Protection:KeyRingPath) is not the one " +
                "that sealed it. Point every portal host at the same key ring, or unlock the vault again with its passphrase on the vault's page.");
        }

        try
        {
            var engine = await BackupEngine.OpenWithKeyAsync(store, new RepositoryKey(key), EngineOptions, cancellationToken: ct);
            if (engine.RepositoryId != row.RepositoryId)
            {
                engine.Dispose();
                throw new VaultLockedException($"The backup data of vault {vaultName} belongs to another repository than the key this portal keeps. Unlock the vault again with its passphrase.");
            }

            return engine;
        }
        catch (RepositoryKeyMismatchException)
        {
            throw new VaultLockedException($"The key this portal keeps does not open vault {vaultName}'s backup data. Unlock the vault again with its passphrase.");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }
}

/// <summary>The portal cannot open a vault's backup data without its passphrase.</summary>
public sealed class VaultLockedException(string message) : Exception(message);
