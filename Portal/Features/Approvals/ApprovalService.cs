using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Portal.Features.Audit;
using Portal.Features.Common;
using Portal.Data;
using Portal.Features.Identity;

namespace Portal.Features.Approvals;

/// <summary>Critical operations: request (used by feature services), list, approve, reject, cancel.</summary>
public sealed class ApprovalService(
    IDbContextFactory<PortalDbContext> dbFactory,
    IEnumerable<ICriticalOperation> operations,
    ICurrentUser currentUser,
    AuditLog audit,
    TimeProvider clock,
    IEnumerable<ICriticalOperationObserver> observers)
{
    /// <summary>
    /// Adds a pending request to <paramref name="db"/> (the caller saves it with its audit row). Refused when
    /// the same operation on the same resource already waits.
    /// </summary>
    public async Task<ApprovalRequest> AddRequestAsync(
        PortalDbContext db, ClaimsPrincipal user, string operation, Guid resourceId, string resource, string summary, CancellationToken ct,
        string? payload = null, uint? resourceVersion = null)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var waiting = await db.ApprovalRequests.AsNoTracking()
            .Where(r => r.Operation == operation && r.ResourceId == resourceId && r.Status == ApprovalStatus.Pending && r.ExpiresAt > now)
            .FirstOrDefaultAsync(ct);
        if (waiting is not null)
            throw new PortalConflictException(
                $"{waiting.RequestedByName} already asked for this at {waiting.RequestedAt:yyyy-MM-dd HH:mm} UTC; it waits for a second Backup.Contributor's approval.");

        var request = new ApprovalRequest
        {
            Id = Guid.CreateVersion7(),
            Operation = operation,
            ResourceId = resourceId,
            Resource = resource,
            Summary = summary,
            Payload = payload,
            ResourceVersion = resourceVersion,
            RequestedByObjectId = user.ObjectId(),
            RequestedByName = user.DisplayName(),
            RequestedAt = now,
            ExpiresAt = now + ApprovalRequest.Lifetime,
        };
        db.ApprovalRequests.Add(request);
        foreach (var observer in observers)
            await observer.RequestedAsync(db, request, ct);
        return request;
    }

    /// <summary>Pending requests first, then the decided ones of the last 30 days.</summary>
    public async Task<IReadOnlyList<ApprovalRequest>> ListAsync(Guid? resourceId = null, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view approval requests");
        var now = clock.GetUtcNow().UtcDateTime;
        var since = now.AddDays(-30);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var requests = db.ApprovalRequests.AsNoTracking().Where(r => r.RequestedAt >= since);
        if (resourceId is { } id)
            requests = requests.Where(r => r.ResourceId == id);
        var list = await requests.OrderByDescending(r => r.RequestedAt).ToListAsync(ct);
        return [.. list.OrderBy(r => r.StatusAt(now) == ApprovalStatus.Pending ? 0 : 1).ThenByDescending(r => r.RequestedAt)];
    }

    public async Task<int> CountPendingAsync(CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view approval requests");
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.ApprovalRequests.CountAsync(r => r.Status == ApprovalStatus.Pending && r.ExpiresAt > now, ct);
    }

    /// <summary>Approves someone else's pending request and runs the operation; both names go into the audit log.</summary>
    public Task ApproveAsync(Guid id, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.ApprovalApprove, $"approval/{id}", async user =>
        {
            Access.Require(user, "approve critical operations", PortalRoles.Contributor);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var request = await PendingAsync(db, id, ct);
            if (request.RequestedByObjectId == user.ObjectId())
                throw new PortalConflictException("You asked for this operation yourself: another Backup.Contributor must approve it.");
            var operation = operations.FirstOrDefault(o => o.Name == request.Operation)
                ?? throw new PortalConflictException($"The portal does not know how to run \"{request.Operation}\".");

            Decide(request, user, ApprovalStatus.Approved);
            await operation.ExecuteAsync(db, request, ct);
            var detail = $"{request.Summary} Requested by {request.RequestedByName}, approved by {user.DisplayName()}.";
            audit.Append(db, user, AuditActions.ApprovalApprove, request.Resource, detail);
            audit.Append(db, user, operation.AuditAction, request.Resource, detail);
            await DecidedAsync(db, request, ct);
            await SaveAsync(db, ct);
        });

    public Task RejectAsync(Guid id, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.ApprovalReject, $"approval/{id}", async user =>
        {
            Access.Require(user, "reject critical operations", PortalRoles.Contributor);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var request = await PendingAsync(db, id, ct);
            if (request.RequestedByObjectId == user.ObjectId())
                throw new PortalConflictException("This is your own request: cancel it instead.");
            Decide(request, user, ApprovalStatus.Rejected);
            audit.Append(db, user, AuditActions.ApprovalReject, request.Resource, $"{request.Summary} Requested by {request.RequestedByName}.");
            await DecidedAsync(db, request, ct);
            await SaveAsync(db, ct);
        });

    /// <summary>The requester withdraws their own pending request.</summary>
    public Task CancelAsync(Guid id, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.ApprovalCancel, $"approval/{id}", async user =>
        {
            Access.Require(user, "cancel critical operation requests", PortalRoles.Contributor);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var request = await PendingAsync(db, id, ct);
            if (request.RequestedByObjectId != user.ObjectId())
                throw new PortalConflictException($"Only {request.RequestedByName}, who asked for it, can cancel this request.");
            Decide(request, user, ApprovalStatus.Cancelled);
            audit.Append(db, user, AuditActions.ApprovalCancel, request.Resource, request.Summary);
            await DecidedAsync(db, request, ct);
            await SaveAsync(db, ct);
        });

    private async Task<ApprovalRequest> PendingAsync(PortalDbContext db, Guid id, CancellationToken ct)
    {
        var request = await db.ApprovalRequests.FirstOrDefaultAsync(r => r.Id == id, ct)
            ?? throw new PortalNotFoundException("This approval request does not exist.");
        var status = request.StatusAt(clock.GetUtcNow().UtcDateTime);
        return status == ApprovalStatus.Pending
            ? request
            : throw new PortalConflictException(status == ApprovalStatus.Expired
                ? $"This request expired at {request.ExpiresAt:yyyy-MM-dd HH:mm} UTC: requests wait at most 24 hours. Ask again if it is still needed."
                : $"This request was already {status.ToString().ToLowerInvariant()} by {request.DecidedByName}.");
    }

    private void Decide(ApprovalRequest request, ClaimsPrincipal user, ApprovalStatus status)
    {
        request.Status = status;
        request.DecidedByObjectId = user.ObjectId();
        request.DecidedByName = user.DisplayName();
        request.DecidedAt = clock.GetUtcNow().UtcDateTime;
    }

    private async Task DecidedAsync(PortalDbContext db, ApprovalRequest request, CancellationToken ct)
    {
        foreach (var observer in observers)
            await observer.DecidedAsync(db, request, ct);
    }

    private static Task SaveAsync(PortalDbContext db, CancellationToken ct) =>
        db.SaveOrExplainAsync(() => Task.FromResult<Exception>(new PortalConflictException(
            "Someone else decided this request, or changed what it concerns, at the same moment. Reload to see where it stands.")), ct);
}
