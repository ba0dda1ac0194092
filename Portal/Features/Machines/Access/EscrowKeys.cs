using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Portal.Data;

namespace Portal.Features.Machines.Access;

/// <summary>
/// Each vault's escrow key pair (ECDH P-256), made on the first registration to the vault: machines seal their
/// repository keys to its public key; its private key (PKCS#8) is kept sealed with Data Protection, as vault keys are.
/// </summary>
public sealed class EscrowKeys(IDbContextFactory<PortalDbContext> dbFactory, IDataProtectionProvider dataProtection, TimeProvider clock)
{
    /// <summary>The Data Protection purpose of sealed escrow private keys.</summary>
    public const string Purpose = "Portal.Machines.Escrow.v1";

    private readonly IDataProtector protector = dataProtection.CreateProtector(Purpose);

    /// <summary>The vault's escrow public key (SubjectPublicKeyInfo), made now if the vault has none yet.</summary>
    public async Task<byte[]> PublicKeyAsync(Guid vaultId, CancellationToken ct = default)
    {
        if (await FindAsync(vaultId, ct) is { } existing)
            return existing.PublicKey;
        using var key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var privateKey = key.ExportPkcs8PrivateKey();
        var row = new VaultEscrowKey
        {
            VaultId = vaultId,
            PublicKey = key.ExportSubjectPublicKeyInfo(),
            SealedPrivateKey = protector.Protect(privateKey),
            CreatedAt = clock.GetUtcNow().UtcDateTime,
        };
        CryptographicOperations.ZeroMemory(privateKey);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            db.VaultEscrowKeys.Add(row);
            await db.SaveChangesAsync(ct);
            return row.PublicKey;
        }
        catch (DbUpdateException)
        {
            // Another registration to the same vault made it first: theirs is the vault's key.
            return (await FindAsync(vaultId, ct))?.PublicKey ?? throw new InvalidOperationException("The vault's escrow key could not be saved.");
        }
    }

    /// <summary>The vault's escrow private key, unsealed; null when the vault has none.</summary>
    /// <exception cref="CryptographicException">This host's Data Protection key ring cannot unseal it.</exception>
    public async Task<ECDiffieHellman?> PrivateKeyAsync(Guid vaultId, CancellationToken ct = default)
    {
        if (await FindAsync(vaultId, ct) is not { } row)
            return null;
        var pkcs8 = protector.Unprotect(row.SealedPrivateKey);
        try
        {
            var key = ECDiffieHellman.Create();
            key.ImportPkcs8PrivateKey(pkcs8, out _);
            return key;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    /// <summary>The row of an escrow key pair brought back from the vault manifest (attaching a vault), sealed with this host's key ring.</summary>
    public VaultEscrowKey Restored(Guid vaultId, byte[] publicKey, byte[] privateKeyPkcs8, DateTime now) => new()
    {
        VaultId = vaultId, PublicKey = publicKey, SealedPrivateKey = protector.Protect(privateKeyPkcs8), CreatedAt = now,
    };

    private async Task<VaultEscrowKey?> FindAsync(Guid vaultId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.VaultEscrowKeys.AsNoTracking().FirstOrDefaultAsync(k => k.VaultId == vaultId, ct);
    }
}
