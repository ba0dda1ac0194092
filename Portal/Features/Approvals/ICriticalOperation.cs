using Portal.Data;

namespace Portal.Features.Approvals;

/// <summary>Runs one kind of critical operation once it is approved.</summary>
public interface ICriticalOperation
{
    /// <summary>One of <see cref="CriticalOperations"/>.</summary>
    string Name { get; }

    /// <summary>The audit action written when the operation runs.</summary>
    string AuditAction { get; }

    /// <summary>
    /// Checks the rules again and makes the change in <paramref name="db"/> without saving; throws a portal
    /// exception (conflict, not found) when the operation can no longer run.
    /// </summary>
    Task ExecuteAsync(PortalDbContext db, ApprovalRequest request, CancellationToken ct);
}
