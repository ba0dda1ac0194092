using Microsoft.EntityFrameworkCore;
using Portal.Features.Approvals;
using Portal.Features.Audit;
using Portal.Features.Common;
using Portal.Data;

namespace Portal.Features.Vaults;

/// <summary>Deletes a vault once a second Backup.Contributor approves, if it is still empty.</summary>
internal sealed class DeleteVaultOperation(IVaultContents contents) : ICriticalOperation
{
    public string Name => CriticalOperations.DeleteVault;

    public string AuditAction => AuditActions.VaultDelete;

    public async Task ExecuteAsync(PortalDbContext db, ApprovalRequest request, CancellationToken ct)
    {
        var vault = await db.Vaults.FirstOrDefaultAsync(v => v.Id == request.ResourceId, ct) ?? throw VaultService.Gone();
        await contents.EnsureEmptyAsync(db, vault, ct);
        db.Vaults.Remove(vault);
    }
}

/// <summary>Turns a vault's soft delete off once a second Backup.Contributor approves.</summary>
internal sealed class DisableSoftDeleteOperation(TimeProvider clock) : ICriticalOperation
{
    public string Name => CriticalOperations.DisableSoftDelete;

    public string AuditAction => AuditActions.VaultDisableSoftDelete;

    public async Task ExecuteAsync(PortalDbContext db, ApprovalRequest request, CancellationToken ct)
    {
        var vault = await db.Vaults.FirstOrDefaultAsync(v => v.Id == request.ResourceId, ct) ?? throw VaultService.Gone();
        if (!vault.SoftDeleteEnabled)
            throw new PortalConflictException($"Soft delete of vault {vault.Name} is already off.");
        vault.SoftDeleteEnabled = false;
        vault.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        vault.UpdatedBy = $"{request.RequestedByName} (approved by {request.DecidedByName})";
    }
}

/// <summary>Locks a vault's immutability (irreversible) once a second Backup.Contributor approves.</summary>
internal sealed class LockImmutabilityOperation(TimeProvider clock) : ICriticalOperation
{
    public string Name => CriticalOperations.LockImmutability;

    public string AuditAction => AuditActions.VaultLockImmutability;

    public async Task ExecuteAsync(PortalDbContext db, ApprovalRequest request, CancellationToken ct)
    {
        var vault = await db.Vaults.FirstOrDefaultAsync(v => v.Id == request.ResourceId, ct) ?? throw VaultService.Gone();
        if (vault.Immutability == VaultImmutability.Locked)
            throw new PortalConflictException($"Vault {vault.Name}'s immutability is already locked.");
        if (vault.Immutability == VaultImmutability.Disabled)
            throw new PortalConflictException($"Vault {vault.Name} was made mutable again after this request: reject it, and make it immutable before asking again.");
        vault.Immutability = VaultImmutability.Locked;
        vault.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        vault.UpdatedBy = $"{request.RequestedByName} (approved by {request.DecidedByName})";
    }
}

/// <summary>Changes a vault with backup items from GRS to LRS (its paired region's copy goes) once a second Backup.Contributor approves.</summary>
internal sealed class RemoveSecondaryCopyOperation(IVaultContents contents, TimeProvider clock) : ICriticalOperation
{
    public string Name => CriticalOperations.RemoveSecondaryCopy;

    public string AuditAction => AuditActions.VaultRemoveSecondary;

    public async Task ExecuteAsync(PortalDbContext db, ApprovalRequest request, CancellationToken ct)
    {
        var vault = await db.Vaults.FirstOrDefaultAsync(v => v.Id == request.ResourceId, ct) ?? throw VaultService.Gone();
        if (vault.Redundancy == StorageRedundancy.LRS)
            throw new PortalConflictException($"Vault {vault.Name} is already LRS.");
        if (vault.IsImmutable() && await contents.ItemVaultIds(db).AnyAsync(v => v == vault.Id, ct))
            throw VaultImmutabilityRules.Refusal(vault, "changing to LRS", "Reject this request; the vault keeps GRS.");
        vault.Redundancy = StorageRedundancy.LRS;
        vault.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        vault.UpdatedBy = $"{request.RequestedByName} (approved by {request.DecidedByName})";
    }
}
