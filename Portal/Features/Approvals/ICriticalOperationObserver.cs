using Portal.Data;

namespace Portal.Features.Approvals;

/// <summary>
/// Told when a critical operation is requested or decided, with the unit of work that saves it, so what it adds
/// (alerts) commits together with the request or decision. It must not throw: it logs its own failures.
/// </summary>
public interface ICriticalOperationObserver
{
    Task RequestedAsync(PortalDbContext db, ApprovalRequest request, CancellationToken ct);

    /// <summary>After the decision (approved, rejected, cancelled) and, when approved, the operation's change.</summary>
    Task DecidedAsync(PortalDbContext db, ApprovalRequest request, CancellationToken ct);
}
