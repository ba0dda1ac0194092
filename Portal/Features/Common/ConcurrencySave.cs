using Microsoft.EntityFrameworkCore;
using Portal.Data;

namespace Portal.Features.Common;

/// <summary>Saving a change under optimistic concurrency (xmin): lost races become the caller's explanation, never a stack trace.</summary>
public static class ConcurrencySave
{
    /// <summary>
    /// Saves <paramref name="db"/>'s changes; when a row changed meanwhile, throws what <paramref name="explain"/> returns
    /// (typically "X changed it at …" or "it no longer exists"). Nothing is saved then.
    /// </summary>
    public static async Task SaveOrExplainAsync(this PortalDbContext db, Func<Task<Exception>> explain, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw await explain();
        }
    }
}
