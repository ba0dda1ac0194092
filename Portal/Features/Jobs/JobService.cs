using Microsoft.EntityFrameworkCore;
using Portal.Features.Common;

namespace Portal.Features.Jobs;

/// <summary>Which jobs to list.</summary>
public sealed record JobQuery(
    Guid? VaultId = null, JobKind? Kind = null, JobStatus? Status = null, DateTime? FromUtc = null, int PageIndex = 0, int PageSize = 25);

/// <summary>
/// Jobs: the record of every operation's run, its live progress, and its outcome. Runners (backup, replication …)
/// call <see cref="StartAsync"/>, <see cref="ReportAsync"/> and <see cref="FinishAsync"/>; pages list and read.
/// </summary>
public sealed class JobService(IDbContextFactory<PortalDbContext> dbFactory, JobNotifier notifier, TimeProvider clock)
{
    /// <summary>How long a running job may stay silent before it is taken for dead (its portal instance stopped).</summary>
    public static readonly TimeSpan HeartbeatTimeout = TimeSpan.FromMinutes(2);

    /// <summary>This portal instance (one JobService per host), so that its listener ignores its own change notifications.</summary>
    public Guid InstanceId { get; } = Guid.NewGuid();

    public async Task<Job> StartAsync(JobKind kind, Guid? vaultId, string vaultName, string subject, string startedBy, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var job = new Job
        {
            Id = Guid.CreateVersion7(), Kind = kind, Status = JobStatus.InProgress, VaultId = vaultId, VaultName = vaultName,
            Subject = subject, StartedBy = startedBy, QueuedAt = now, StartedAt = now, HeartbeatAt = now,
        };
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        db.Jobs.Add(job);
        await db.SaveChangesAsync(ct);
        await ChangedAsync(db, job, ct);
        return job;
    }

    /// <summary>Records progress (and a heartbeat) of a running job.</summary>
    public async Task ReportAsync(Guid jobId, string phase, long bytesDone, long? bytesTotal, long filesDone, long? filesTotal, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var job = await db.Jobs.FirstAsync(j => j.Id == jobId, ct);
        if (job.Status.IsFinished())
            return;
        (job.Phase, job.BytesDone, job.BytesTotal, job.FilesDone, job.FilesTotal) = (phase, bytesDone, bytesTotal, filesDone, filesTotal);
        job.HeartbeatAt = clock.GetUtcNow().UtcDateTime;
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            return; // the job changed meanwhile (finished, or a newer report): this report is stale
        }

        await ChangedAsync(db, job, ct);
    }

    public async Task FinishAsync(Guid jobId, JobStatus status, string? message = null, CancellationToken ct = default)
    {
        if (!status.IsFinished())
            throw new ArgumentOutOfRangeException(nameof(status), "A job finishes as Completed, CompletedWithWarnings, Failed or Cancelled.");
        for (var attempt = 1; ; attempt++)
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var job = await db.Jobs.FirstAsync(j => j.Id == jobId, ct);
            job.Status = status;
            job.Message = message;
            job.EndedAt = job.HeartbeatAt = clock.GetUtcNow().UtcDateTime;
            if (status == JobStatus.Completed && job.BytesTotal is { } total)
                job.BytesDone = total;
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateConcurrencyException) when (attempt < 3)
            {
                continue; // a progress report from elsewhere landed in between: the outcome still has to be written
            }

            await ChangedAsync(db, job, ct);
            return;
        }
    }

    /// <summary>Marks running jobs whose instance went silent as failed, so none stays "in progress" forever.</summary>
    public async Task<int> FailAbandonedAsync(CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var deadline = now - HeartbeatTimeout;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var abandoned = await db.Jobs.Where(j => (j.Status == JobStatus.InProgress || j.Status == JobStatus.Cancelling || j.Status == JobStatus.Queued)
                                                 && j.HeartbeatAt < deadline).ToListAsync(ct);
        foreach (var job in abandoned)
        {
            job.Status = JobStatus.Failed;
            job.EndedAt = now;
            job.Message = $"The portal instance running this job stopped answering at {job.HeartbeatAt:yyyy-MM-dd HH:mm:ss} UTC. " +
                          "Run it again; a backup reuses everything the interrupted one uploaded.";
        }

        await db.SaveChangesAsync(ct);
        foreach (var job in abandoned)
            await ChangedAsync(db, job, ct);
        return abandoned.Count;
    }

    /// <summary>Tells this instance's pages at once, and the other instances through PostgreSQL NOTIFY.</summary>
    private async Task ChangedAsync(PortalDbContext db, Job job, CancellationToken ct)
    {
        await db.Database.ExecuteSqlAsync($"SELECT pg_notify({JobChangeListener.Channel}, {InstanceId.ToString("N") + ":" + job.Id})", ct);
        await notifier.NotifyAsync(job);
    }
}

/// <summary>Jobs as the signed-in user may read them (every portal role may).</summary>
public sealed class JobQueries(IDbContextFactory<PortalDbContext> dbFactory, ICurrentUser currentUser)
{
    public async Task<PagedResult<Job>> ListAsync(JobQuery query, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view jobs");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var jobs = db.Jobs.AsNoTracking();
        if (query.VaultId is { } vault) jobs = jobs.Where(j => j.VaultId == vault);
        if (query.Kind is { } kind) jobs = jobs.Where(j => j.Kind == kind);
        if (query.Status is { } status) jobs = jobs.Where(j => j.Status == status);
        if (query.FromUtc is { } from) jobs = jobs.Where(j => j.QueuedAt >= from);
        var total = await jobs.CountAsync(ct);
        var size = Math.Clamp(query.PageSize, 1, 200);
        var page = await jobs.OrderByDescending(j => j.QueuedAt).ThenByDescending(j => j.Id).Skip(Math.Max(0, query.PageIndex) * size).Take(size).ToListAsync(ct);
        return new PagedResult<Job>(page, total);
    }

    public async Task<Job?> GetAsync(Guid id, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view jobs");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == id, ct);
    }
}
