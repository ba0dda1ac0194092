using Portal.Data;
using Portal.Features.Approvals;

namespace Portal.Features.Alerts;

/// <summary>
/// Alerts about critical operations: a request raises a warning (resolved when someone decides it); an approval of
/// turning soft delete off or deleting backup data raises a critical alert, reduced retention a warning, a deleted (empty) vault information. They commit with
/// the request or decision; a failure here is logged and never blocks the operation.
/// </summary>
public sealed class CriticalOperationAlerts(AlertService alerts, ILogger<CriticalOperationAlerts> logger) : ICriticalOperationObserver
{
    public async Task RequestedAsync(PortalDbContext db, ApprovalRequest request, CancellationToken ct)
    {
        try
        {
            await alerts.StageRaiseAsync(db, new AlertInput(RequestKey(request.Id), AlertKinds.CriticalOperationRequested, AlertSeverity.Warning,
                $"{request.RequestedByName} asks to {Verb(request.Operation)} ({request.Resource})",
                $"{request.RequestedByName} requested at {request.RequestedAt:yyyy-MM-dd HH:mm} UTC: {request.Summary}",
                $"A second Backup.Contributor approves or rejects it on the Approvals page before {request.ExpiresAt:yyyy-MM-dd HH:mm} UTC. " +
                "If nobody expected this request, reject it and review who holds the Backup.Contributor role.")
            {
                Link = "approvals",
            }, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "No alert raised for approval request {Request}", request.Id);
        }
    }

    public async Task DecidedAsync(PortalDbContext db, ApprovalRequest request, CancellationToken ct)
    {
        try
        {
            await alerts.StageResolveAsync(db, RequestKey(request.Id),
                $"{request.Status} by {request.DecidedByName} at {request.DecidedAt:yyyy-MM-dd HH:mm} UTC.", ct);
            if (request.Status == ApprovalStatus.Approved)
                await alerts.StageRaiseAsync(db, Approved(request), ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "No alert raised for the decision on approval request {Request}", request.Id);
        }
    }

    public static string RequestKey(Guid requestId) => $"{AlertKinds.CriticalOperationRequested}:{requestId:N}";

    private static AlertInput Approved(ApprovalRequest r)
    {
        var who = $"Requested by {r.RequestedByName}, approved by {r.DecidedByName} at {r.DecidedAt:yyyy-MM-dd HH:mm} UTC: {r.Summary}";
        return r.Operation switch
        {
            CriticalOperations.DisableSoftDelete => new AlertInput(JobAlerts.Key(AlertKinds.SoftDeleteDisabled, r.ResourceId), AlertKinds.SoftDeleteDisabled,
                AlertSeverity.Critical, $"Soft delete is off for {r.Resource}", who,
                "Backup data deleted in this vault is now purged at once and cannot be undeleted. If that was not intended, turn soft delete on again in the vault's properties; this alert then resolves itself.")
            {
                VaultId = r.ResourceId, VaultName = Name(r.Resource), Link = $"vaults/{Name(r.Resource)}",
            },
            CriticalOperations.StopProtectionDeleteData => new AlertInput(JobAlerts.Key(AlertKinds.BackupDataDeleted, r.ResourceId), AlertKinds.BackupDataDeleted,
                AlertSeverity.Critical, $"Backup data of {r.Resource} deleted", who,
                "If this was a mistake, undelete the item on its page while the soft-delete period lasts (with soft delete off the data is already gone). This alert resolves itself when the item is undeleted; otherwise acknowledge or resolve it.")
            {
                ItemId = r.ResourceId, ItemName = Name(r.Resource), Link = $"items/{r.ResourceId}",
            },
            // A vault can only be deleted empty, so its deletion is news rather than a risk; reduced retention removes recovery points.
            _ => new AlertInput($"{AlertKinds.CriticalOperationApproved}:{r.Id:N}", AlertKinds.CriticalOperationApproved,
                r.Operation == CriticalOperations.DeleteVault ? AlertSeverity.Information : AlertSeverity.Warning,
                $"Approved: {Verb(r.Operation)} ({r.Resource})", who,
                "Nothing to do if this change was expected. If not, review the audit log for who asked and who approved, and undo what can be undone (e.g. restore the policy's retention).")
            {
                Link = "audit",
            },
        };
    }

    private static string Verb(string operation) => operation switch
    {
        CriticalOperations.DeleteVault => "delete a vault",
        CriticalOperations.DisableSoftDelete => "turn soft delete off",
        CriticalOperations.ReducePolicyRetention => "reduce a policy's retention",
        CriticalOperations.StopProtectionDeleteData => "stop protection and delete backup data",
        CriticalOperations.LockImmutability => "lock a vault's immutability (irreversible)",
        CriticalOperations.RemoveSecondaryCopy => "remove a vault's copy in its paired region (GRS to LRS)",
        _ => operation,
    };

    /// <summary>The last part of a resource such as <c>vault/finance</c>.</summary>
    private static string Name(string resource) => resource[(resource.LastIndexOf('/') + 1)..];
}
