using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Features.Common;

namespace Portal.Features.Jobs;

/// <summary>Where every Retry starts (backups, restores, drills, verifications): the failed job, found and checked to be one of the kind retried.</summary>
internal static class JobRetry
{
    /// <summary>
    /// The job <paramref name="jobId"/> if it is a failed <paramref name="kindName"/> (<paramref name="isKind"/>);
    /// otherwise the reason in words: gone, another kind of job, or not failed.
    /// </summary>
    public static async Task<Job> FailedAsync(PortalDbContext db, Guid jobId, Func<Job, bool> isKind, string kindName, CancellationToken ct)
    {
        var failed = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId, ct)
                     ?? throw new PortalNotFoundException("There is no such job: it may have been removed with its vault.");
        if (!isKind(failed))
            throw new PortalConflictException($"This is a {failed.Kind.Words().ToLowerInvariant()} job, not a {kindName}: start it again from its page.");
        if (failed.Status != JobStatus.Failed)
            throw new PortalConflictException($"Only a failed {kindName} can be retried: this one is {failed.Status.Words().ToLowerInvariant()}.");
        return failed;
    }

    /// <summary>As <see cref="FailedAsync(PortalDbContext, Guid, Func{Job, bool}, string, CancellationToken)"/>, on a context of its own.</summary>
    public static async Task<Job> FailedAsync(IDbContextFactory<PortalDbContext> dbFactory, Guid jobId, Func<Job, bool> isKind, string kindName, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await FailedAsync(db, jobId, isKind, kindName, ct);
    }
}
