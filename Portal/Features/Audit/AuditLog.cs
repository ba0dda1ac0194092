using System.Globalization;
using System.Security.Claims;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Portal.Features.Common;
using Portal.Data;
using Portal.Features.Identity;

namespace Portal.Features.Audit;

/// <summary>Which audit entries to show: a time range, filters, and a page.</summary>
public sealed record AuditQuery(
    DateTime? FromUtc = null,
    DateTime? ToUtc = null,
    string? Actor = null,
    string? Action = null,
    AuditOutcome? Outcome = null,
    int PageIndex = 0,
    int PageSize = 50);

/// <summary>
/// The append-only audit log. Successful changes append their row to the same unit of work as the change
/// (<see cref="Append"/>), so one never commits without the other; refusals and failures are recorded on
/// their own (<see cref="GuardAsync{T}"/>).
/// </summary>
public sealed class AuditLog(
    IDbContextFactory<PortalDbContext> dbFactory, ICurrentUser currentUser, TimeProvider clock, ILogger<AuditLog> logger)
{
    private static readonly string[] Readers = [PortalRoles.Contributor, PortalRoles.Reader];

    /// <summary>Adds a successful <paramref name="action"/> to <paramref name="db"/>'s pending changes.</summary>
    public void Append(PortalDbContext db, ClaimsPrincipal user, string action, string resource, string? detail = null) =>
        db.AuditEntries.Add(Entry(user, action, resource, AuditOutcome.Succeeded, detail));

    /// <summary>Records one entry on its own.</summary>
    public async Task RecordAsync(ClaimsPrincipal user, string action, string resource, AuditOutcome outcome, string? detail)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        db.AuditEntries.Add(Entry(user, action, resource, outcome, detail));
        await db.SaveChangesAsync();
    }

    /// <summary>
    /// Runs <paramref name="operation"/> as the current user; when it is refused or fails, records that
    /// with the reason and rethrows. The operation appends its own success.
    /// </summary>
    /// <remarks>
    /// What is a security event, decided once here (issue 25: the log filled with "Refused" rows from form typos):
    /// <list type="bullet">
    /// <item>Bad input (<see cref="PortalValidationException"/>: a name, a number, a path a form refuses) is not recorded:
    /// the user sees the message at the field, nothing changed, and nothing was attempted against anyone.</item>
    /// <item>A refused authorization (<see cref="PortalAccessDeniedException"/>) is recorded: someone tried what their role
    /// does not allow.</item>
    /// <item>A refusal by a rule or the current state (<see cref="PortalConflictException"/>: an immutable vault, a second
    /// approver who is the requester, a change made meanwhile) and an unknown id (<see cref="PortalNotFoundException"/>:
    /// id swapping shows up here) are recorded.</item>
    /// <item>A failure is recorded with its kind, and logged.</item>
    /// </list>
    /// Machines' registration refusals (bad or altered credentials) are recorded by <c>MachineRegistration</c> itself.
    /// </remarks>
    public async Task<T> GuardAsync<T>(string action, string resource, Func<ClaimsPrincipal, Task<T>> operation)
    {
        var user = await currentUser.GetPrincipalAsync();
        try
        {
            return await operation(user);
        }
        catch (PortalValidationException)
        {
            throw; // bad input: shown at its field, not a security event
        }
        catch (Exception e) when (e is PortalConflictException or PortalAccessDeniedException or PortalNotFoundException)
        {
            await RecordAsync(user, action, resource, AuditOutcome.Refused, e.Message);
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "{Action} on {Resource} failed", action, resource);
            await RecordAsync(user, action, resource, AuditOutcome.Failed, e.GetType().Name);
            throw;
        }
    }

    public Task GuardAsync(string action, string resource, Func<ClaimsPrincipal, Task> operation) =>
        GuardAsync<bool>(action, resource, async user =>
        {
            await operation(user);
            return true;
        });

    public async Task<PagedResult<AuditEntry>> QueryAsync(AuditQuery query, CancellationToken ct = default)
    {
        await currentUser.RequireAnyRoleAsync("read the audit log", Readers);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var entries = Filter(db, query);
        var total = await entries.CountAsync(ct);
        var pageSize = Math.Clamp(query.PageSize, 1, 500);
        var page = await entries.OrderByDescending(a => a.Id).Skip(Math.Max(0, query.PageIndex) * pageSize).Take(pageSize).ToListAsync(ct);
        return new PagedResult<AuditEntry>(page, total);
    }

    /// <summary>Writes every entry matching <paramref name="query"/> as CSV (RFC 4180), newest first; the export is audited too.</summary>
    public async Task ExportCsvAsync(AuditQuery query, TextWriter output, CancellationToken ct = default)
    {
        var user = await currentUser.RequireAnyRoleAsync("export the audit log", Readers);
        await RecordAsync(user, AuditActions.AuditExport, "audit", AuditOutcome.Succeeded, Describe(query));
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await output.WriteLineAsync("time_utc,actor_object_id,actor,action,resource,outcome,detail");
        await foreach (var a in Filter(db, query).OrderByDescending(a => a.Id).AsAsyncEnumerable().WithCancellation(ct))
        {
            await output.WriteLineAsync(Csv.Line(a.At, a.ActorObjectId, a.ActorName, a.Action, a.Resource, a.Outcome.ToString(), a.Detail));
        }
    }

    private static IQueryable<AuditEntry> Filter(PortalDbContext db, AuditQuery query)
    {
        var entries = db.AuditEntries.AsNoTracking();
        if (query.FromUtc is { } from)
            entries = entries.Where(a => a.At >= from);
        if (query.ToUtc is { } to)
            entries = entries.Where(a => a.At < to);
        if (!string.IsNullOrWhiteSpace(query.Actor))
            entries = entries.Where(a => EF.Functions.ILike(a.ActorName, "%" + Like.Escape(query.Actor.Trim()) + "%", "\\"));
        if (!string.IsNullOrWhiteSpace(query.Action))
            entries = entries.Where(a => EF.Functions.ILike(a.Action, Like.Escape(query.Action.Trim()) + "%", "\\"));
        if (query.Outcome is { } outcome)
            entries = entries.Where(a => a.Outcome == outcome);
        return entries;
    }

    private AuditEntry Entry(ClaimsPrincipal user, string action, string resource, AuditOutcome outcome, string? detail) => new()
    {
        At = clock.GetUtcNow().UtcDateTime,
        ActorObjectId = user.ObjectId(),
        ActorName = user.Identity?.IsAuthenticated == true ? user.DisplayName() : "anonymous",
        Action = action,
        Resource = resource,
        Outcome = outcome,
        Detail = detail is { Length: > 2000 } ? detail[..2000] : detail,
    };

    private static string Describe(AuditQuery q) =>
        $"from {q.FromUtc:yyyy-MM-dd HH:mm} to {q.ToUtc:yyyy-MM-dd HH:mm}, actor '{q.Actor}', action '{q.Action}', outcome {q.Outcome}";
}
