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
