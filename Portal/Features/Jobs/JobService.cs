using Microsoft.EntityFrameworkCore;
using Portal.Features.Audit;
using Portal.Features.Common;

namespace Portal.Features.Jobs;

/// <summary>Which jobs to list.</summary>
public sealed record JobQuery(
    Guid? VaultId = null, JobKind? Kind = null, JobStatus? Status = null, DateTime? FromUtc = null, int PageIndex = 0, int PageSize = 25,
    Guid? ItemId = null, DateTime? ToUtc = null);

/// <summary>One progress report of a running job.</summary>
public sealed record JobProgressReport(
    string Phase, long BytesDone, long? BytesTotal, long FilesDone, long? FilesTotal, string? CurrentPath = null, double? BytesPerSecond = null);

/// <summary>
/// Jobs: the record of every operation's run, its live progress, and its outcome. Runners (backup, replication …)
/// call <see cref="StartAsync"/>, <see cref="ReportAsync"/> and <see cref="FinishAsync"/>; pages list and read.
/// </summary>
public sealed class JobService(
    IDbContextFactory<PortalDbContext> dbFactory, JobNotifier notifier, JobCancellation cancellation, TimeProvider clock,
    IEnumerable<IJobOutcomeObserver>? observers = null, ILogger<JobService>? logger = null)
{
    /// <summary>How long a running job may stay silent before it is taken for dead (its portal instance stopped).</summary>
    public static readonly TimeSpan HeartbeatTimeout = TimeSpan.FromMinutes(2);

    /// <summary>This portal instance (one JobService per host), so that its listener ignores its own change notifications.</summary>
    public Guid InstanceId { get; } = Guid.NewGuid();

    /// <summary>Records a job that starts running now.</summary>
    public Task<Job> StartAsync(JobKind kind, Guid? vaultId, string vaultName, string subject, string startedBy, CancellationToken ct = default) =>
        AddAsync(kind, JobStatus.InProgress, vaultId, vaultName, null, subject, startedBy, ct);

    /// <summary>Records a job that waits to run (a "Back up now" until the scheduler picks it up).</summary>
    public Task<Job> QueueAsync(JobKind kind, Guid? vaultId, string vaultName, Guid? itemId, string subject, string startedBy, CancellationToken ct = default) =>
        AddAsync(kind, JobStatus.Queued, vaultId, vaultName, itemId, subject, startedBy, ct);

    /// <summary>Records a job for a backup item that starts running now.</summary>
    public Task<Job> StartAsync(JobKind kind, Guid vaultId, string vaultName, Guid itemId, string subject, string startedBy, CancellationToken ct = default) =>
        AddAsync(kind, JobStatus.InProgress, vaultId, vaultName, itemId, subject, startedBy, ct);

    private async Task<Job> AddAsync(JobKind kind, JobStatus status, Guid? vaultId, string vaultName, Guid? itemId, string subject, string startedBy, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var job = new Job
        {
            Id = Guid.CreateVersion7(), Kind = kind, Status = status, VaultId = vaultId, VaultName = vaultName, ItemId = itemId,
            Subject = subject, StartedBy = startedBy, QueuedAt = now, StartedAt = status == JobStatus.InProgress ? now : null, HeartbeatAt = now,
        };
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        db.Jobs.Add(job);
        await db.SaveChangesAsync(ct);
        if (status == JobStatus.InProgress)
            Telemetry.PortalTelemetry.JobStarted(job);
        await ChangedAsync(db, job, ct);
        return job;
    }

    /// <summary>Moves a queued job to InProgress; false when it was cancelled (or finished) before it could start.</summary>
    public async Task<bool> BeginAsync(Guid jobId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var job = await db.Jobs.FirstOrDefaultAsync(j => j.Id == jobId, ct);
        if (job is null || job.Status != JobStatus.Queued)
            return false;
        job.Status = JobStatus.InProgress;
        job.StartedAt = job.HeartbeatAt = clock.GetUtcNow().UtcDateTime;
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            return false; // cancelled in between
        }

        Telemetry.PortalTelemetry.JobStarted(job);
        await ChangedAsync(db, job, ct);
        return true;
    }

    /// <summary>Records progress (and a heartbeat) of a running job.</summary>
    public Task ReportAsync(Guid jobId, string phase, long bytesDone, long? bytesTotal, long filesDone, long? filesTotal, CancellationToken ct = default) =>
        ReportAsync(jobId, new JobProgressReport(phase, bytesDone, bytesTotal, filesDone, filesTotal), ct);

    /// <summary>
    /// Records progress (and a heartbeat) of a running job. Returns the job's status as stored: Cancelling tells the
    /// runner, wherever it runs, that someone asked to cancel.
    /// </summary>
    public async Task<JobStatus> ReportAsync(Guid jobId, JobProgressReport report, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var job = await db.Jobs.FirstAsync(j => j.Id == jobId, ct);
        if (job.Status.IsFinished())
            return job.Status;
        var now = clock.GetUtcNow().UtcDateTime;
        if (report.BytesDone != job.BytesDone || report.FilesDone != job.FilesDone || job.ProgressAt is null)
            job.ProgressAt = now;
        (job.Phase, job.BytesDone, job.BytesTotal, job.FilesDone, job.FilesTotal) = (report.Phase, report.BytesDone, report.BytesTotal, report.FilesDone, report.FilesTotal);
        job.CurrentPath = report.CurrentPath is { Length: > 1024 } path ? "…" + path[^1000..] : report.CurrentPath;
        job.BytesPerSecond = report.BytesPerSecond;
        job.HeartbeatAt = now;
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            // the job changed meanwhile (cancel asked, finished, or a newer report): this report is stale
            await using var fresh = await dbFactory.CreateDbContextAsync(ct);
            return await fresh.Jobs.Where(j => j.Id == jobId).Select(j => j.Status).FirstAsync(ct);
        }

        await ChangedAsync(db, job, ct);
        return job.Status;
    }

    /// <summary>Adds lines to a job's log (warnings with their paths, errors with what to do).</summary>
    public async Task LogAsync(Guid jobId, JobLogLevel level, IEnumerable<string> lines, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        foreach (var line in lines)
            db.JobLog.Add(new JobLogEntry { JobId = jobId, At = now, Level = level, Text = line.Length > 4000 ? line[..3997] + "…" : line });
        await db.SaveChangesAsync(ct);
    }

    public Task LogAsync(Guid jobId, JobLogLevel level, string line, CancellationToken ct = default) => LogAsync(jobId, level, [line], ct);

    /// <summary>
    /// Asks a job to stop: a queued one is cancelled at once; a running one becomes Cancelling, and its runner (on this
    /// portal instance or another) stops and finishes it as Cancelled. False when the job had already finished.
    /// </summary>
    public async Task<bool> RequestCancelAsync(Guid jobId, string by, CancellationToken ct = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var job = await db.Jobs.FirstOrDefaultAsync(j => j.Id == jobId, ct);
            if (job is null || job.Status.IsFinished())
                return false;
            if (job.Status == JobStatus.Cancelling)
                return true;
            var now = clock.GetUtcNow().UtcDateTime;
            if (job.Status == JobStatus.Queued)
            {
                job.Status = JobStatus.Cancelled;
                job.EndedAt = now;
                job.Message = $"Cancelled by {by} before it started.";
            }
            else
            {
                job.Status = JobStatus.Cancelling;
                job.Message = $"Cancel requested by {by}.";
            }

            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateConcurrencyException) when (attempt < 5)
            {
                continue; // a progress report landed in between
            }

            cancellation.Cancel(jobId);
            await ChangedAsync(db, job, ct);
            return true;
        }
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
            job.CurrentPath = null;
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
            await FinishedAsync(job); // before the change is announced: whoever sees the job finished also sees its alert

            Telemetry.PortalTelemetry.JobFinished(job);
            await ChangedAsync(db, job, ct);
            return;
        }
    }

    /// <summary>Tells the observers (alerts); their failure is logged, never the job's.</summary>
    private async Task FinishedAsync(Job job)
    {
        foreach (var observer in observers ?? [])
        {
            try
            {
                await observer.JobFinishedAsync(job, CancellationToken.None);
            }
            catch (Exception e)
            {
                logger?.LogError(e, "{Observer} failed on the outcome of job {Job}", observer.GetType().Name, job.Id);
            }
        }
    }

    /// <summary>How long a queued job may wait for the scheduler (behind a long backup of the same item) before it is given up.</summary>
    public static readonly TimeSpan QueueTimeout = TimeSpan.FromHours(24);

    /// <summary>
    /// Marks running jobs whose instance went silent as failed, so none stays "in progress" forever. Queued jobs wait
    /// in the clustered scheduler's durable store (any instance runs them), so only one queued for a whole day is given up.
    /// </summary>
    public async Task<int> FailAbandonedAsync(CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var deadline = now - HeartbeatTimeout;
        var queueDeadline = now - QueueTimeout;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var abandoned = await db.Jobs.Where(j => ((j.Status == JobStatus.InProgress || j.Status == JobStatus.Cancelling) && j.HeartbeatAt < deadline)
                                                 || (j.Status == JobStatus.Queued && j.QueuedAt < queueDeadline)).ToListAsync(ct);
        foreach (var job in abandoned)
        {
            job.Message = job.Status == JobStatus.Queued
                ? $"Queued at {job.QueuedAt:yyyy-MM-dd HH:mm:ss} UTC and never started within {QueueTimeout.TotalHours:N0} hours: no portal instance ran the scheduler. Start it again."
                : $"The portal instance running this job stopped answering at {job.HeartbeatAt:yyyy-MM-dd HH:mm:ss} UTC. " +
                  "Run it again; a backup reuses everything the interrupted one uploaded.";
            job.Status = JobStatus.Failed;
            job.EndedAt = now;
        }

        await db.SaveChangesAsync(ct);
        foreach (var job in abandoned)
        {
            await FinishedAsync(job);
            Telemetry.PortalTelemetry.JobFinished(job);
            await ChangedAsync(db, job, ct);
        }
        return abandoned.Count;
    }

    /// <summary>
    /// Tells this instance's pages, and the other instances through PostgreSQL NOTIFY. Called after the state is saved,
    /// so nothing here may fail the job: the notifier never waits on a subscriber, and a NOTIFY that fails only leaves
    /// the other instances' pages to their next change.
    /// </summary>
    private async Task ChangedAsync(PortalDbContext db, Job job, CancellationToken ct)
    {
        notifier.Publish(job);
        try
        {
            await db.Database.ExecuteSqlAsync($"SELECT pg_notify({JobChangeListener.Channel}, {InstanceId.ToString("N") + ":" + job.Id})", ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger?.LogWarning("Other portal instances were not told of the change of job {Job}: {Reason}", job.Id, e.Message);
        }
    }
}

/// <summary>Jobs as the signed-in user may read them (every portal role may).</summary>
public sealed class JobQueries(IDbContextFactory<PortalDbContext> dbFactory, ICurrentUser currentUser, JobService jobs, AuditLog audit)
{
    public async Task<PagedResult<Job>> ListAsync(JobQuery query, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view jobs");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var jobs = db.Jobs.AsNoTracking();
        if (query.VaultId is { } vault) jobs = jobs.Where(j => j.VaultId == vault);
        if (query.ItemId is { } item) jobs = jobs.Where(j => j.ItemId == item);
        if (query.ToUtc is { } to) jobs = jobs.Where(j => j.QueuedAt < to);
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

    /// <summary>The job's log, oldest first (at most <paramref name="limit"/> lines).</summary>
    public async Task<IReadOnlyList<JobLogEntry>> LogAsync(Guid id, int limit = 1000, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view jobs");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.JobLog.AsNoTracking().Where(e => e.JobId == id).OrderBy(e => e.Id).Take(limit).ToListAsync(ct);
    }

    /// <summary>Asks a running or queued job to stop (Backup.Contributor or Backup.Operator).</summary>
    public async Task<bool> CancelAsync(Guid id, CancellationToken ct = default)
    {
        var user = await currentUser.RequireAnyRoleAsync("cancel jobs", PortalRoles.Contributor, PortalRoles.Operator);
        var cancelled = await jobs.RequestCancelAsync(id, user.DisplayName(), ct);
        if (cancelled)
            await audit.RecordAsync(user, AuditActions.JobCancel, $"job/{id}", AuditOutcome.Succeeded, null);
        return cancelled;
    }
}
