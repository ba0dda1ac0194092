using Microsoft.EntityFrameworkCore;
using Portal.Features.Audit;
using Microsoft.Extensions.Options;
using Portal.Features.Common;
using Portal.Data;
using Portal.Features.Identity;

namespace Portal.Features.Jobs;

/// <summary>Which jobs to list.</summary>
public sealed record JobQuery(
    Guid? VaultId = null, JobKind? Kind = null, JobStatus? Status = null, DateTime? FromUtc = null, int PageIndex = 0, int PageSize = 25,
    Guid? ItemId = null, DateTime? ToUtc = null);

/// <summary>One progress report of a running job.</summary>
public sealed record JobProgressReport(
    string Phase, long BytesDone, long? BytesTotal, long FilesDone, long? FilesTotal, string? CurrentPath = null, double? BytesPerSecond = null);

/// <summary>
/// Jobs: the record of every operation's run, its live progress, and its outcome. The <see cref="Pipeline.JobPipeline"/>
/// queues jobs and its executors claim and run them through <see cref="Pipeline.IJobChannel"/>, which this class
/// implements over PostgreSQL (an executor on another machine reaches the same calls through its connection). Every
/// change is told to this instance's pages and, through PostgreSQL NOTIFY, to the other instances'.
/// </summary>
public sealed class JobService(
    IDbContextFactory<PortalDbContext> dbFactory, JobNotifier notifier, JobCancellation cancellation, TimeProvider clock,
    IEnumerable<IJobOutcomeObserver>? observers = null, ILogger<JobService>? logger = null, IOptions<JobsOptions>? options = null)
    : Pipeline.IJobChannel
{
    private readonly JobsOptions settings = options?.Value ?? new JobsOptions();

    /// <summary>This portal instance (one JobService per host), so that its listener ignores its own change notifications.</summary>
    public Guid InstanceId { get; } = Guid.NewGuid();

    internal Task<PortalDbContext> CreateDbContextAsync(CancellationToken ct) => dbFactory.CreateDbContextAsync(ct);

    /// <summary>The job as stored now (no role check: for the pipeline, not for pages).</summary>
    internal async Task<Job?> GetAsync(Guid jobId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId, ct);
    }

    /// <summary>Records a job that starts running now, outside the pipeline (a replication pass that found work).</summary>
    public Task<Job> StartAsync(JobKind kind, Guid? vaultId, string vaultName, string subject, string startedBy, CancellationToken ct = default) =>
        AddAsync(new Job { Kind = kind, Status = JobStatus.InProgress, VaultId = vaultId, VaultName = vaultName, Subject = subject, StartedBy = startedBy }, ct);

    /// <summary>Records a job of an item that starts running now, outside the pipeline (a download streamed to a browser).</summary>
    public Task<Job> StartAsync(JobKind kind, Guid vaultId, string vaultName, Guid itemId, string subject, string startedBy, CancellationToken ct = default) =>
        AddAsync(new Job { Kind = kind, Status = JobStatus.InProgress, VaultId = vaultId, VaultName = vaultName, ItemId = itemId, Subject = subject, StartedBy = startedBy }, ct);

    /// <summary>Adds a job (queued, or running here from its first attempt) and tells the pages.</summary>
    internal async Task<Job> AddAsync(Job job, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        Stamp(job);
        db.Jobs.Add(job);
        await db.SaveChangesAsync(ct);
        await AddedAsync(job, ct);
        return job;
    }

    /// <summary>Fills in the times of a job about to be added (in the caller's transaction).</summary>
    internal void Stamp(Job job)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (job.Id == Guid.Empty)
            job.Id = Guid.CreateVersion7();
        job.QueuedAt = job.HeartbeatAt = now;
        if (job.Status == JobStatus.InProgress)
            job.StartedAt = now;
    }

    /// <summary>Announces a job once its row is committed.</summary>
    internal async Task AddedAsync(Job job, CancellationToken ct)
    {
        if (job.Status == JobStatus.InProgress)
            JobTelemetry.Started(job);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await ChangedAsync(db, job, ct);
    }

    /// <inheritdoc />
    public Task<Pipeline.ClaimedJob?> ClaimAsync(string executor, IReadOnlyCollection<string> operations, CancellationToken ct) =>
        ClaimAsync(executor, operations, machineId: null, ct);

    /// <summary>
    /// Claims the oldest queued job of <paramref name="machineId"/> (one of <paramref name="operations"/>) whose concurrency key
    /// is free, for that machine's agent; null when none.
    /// </summary>
    public Task<Pipeline.ClaimedJob?> ClaimForMachineAsync(Guid machineId, IReadOnlyCollection<string> operations, CancellationToken ct) =>
        ClaimAsync(JobExecutors.Machine(machineId), operations, machineId, ct);

    /// <summary>Portal instances claim jobs without a machine; a machine's agent claims only its own.</summary>
    private async Task<Pipeline.ClaimedJob?> ClaimAsync(string executor, IReadOnlyCollection<string> operations, Guid? machineId, CancellationToken ct)
    {
        if (operations.Count == 0)
            return null;
        var names = operations.ToArray();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // Most polls find nothing (an idle agent asks every few seconds): a plain read first, without the transaction and
        // the claims' lock (17 % of an idle portal's CPU at 500 agents). A job queued just after it is found by the next
        // poll, as one queued just after the locked query would be.
        var queued = db.Jobs.Where(j => j.Status == JobStatus.Queued && names.Contains(j.Operation!));
        queued = machineId is { } machine ? queued.Where(j => j.MachineId == machine) : queued.Where(j => j.MachineId == null);
        if (!await queued.AnyAsync(ct))
            return null;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // Claims are few and quick: one at a time across every instance, so two instances never both see a key free.
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({ClaimLock})", ct);
        var id = await db.Database.SqlQuery<Guid>($"""
            SELECT j."Id" AS "Value" FROM jobs j
            WHERE j."Status" = 'Queued' AND j."Operation" = ANY({names})
              AND j."MachineId" IS NOT DISTINCT FROM {machineId}::uuid
              AND (j."ConcurrencyKey" IS NULL OR NOT EXISTS (
                  SELECT 1 FROM jobs r WHERE r."ConcurrencyKey" = j."ConcurrencyKey" AND r."Status" IN ('InProgress', 'Cancelling')))
            ORDER BY j."QueuedAt", j."Id" LIMIT 1
            """).ToListAsync(ct);
        if (id.Count == 0)
            return null;
        var job = await db.Jobs.FirstAsync(j => j.Id == id[0], ct);
        var now = clock.GetUtcNow().UtcDateTime;
        job.Status = JobStatus.InProgress;
        job.Attempt++;
        job.RunBy = executor;
        job.StartedAt ??= now;
        job.HeartbeatAt = now;
        job.ProgressAt = null;
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        if (job.Attempt == 1)
            JobTelemetry.Started(job);
        await ChangedAsync(db, job, ct);
        return new Pipeline.ClaimedJob(new Pipeline.JobLease(job.Id, job.Attempt, executor), job.Operation!, job.Input ?? "{}");
    }

    /// <summary>The advisory lock that serializes claims.</summary>
    private const int ClaimLock = 0x4A4F4253; // "JOBS"

    /// <summary>Records progress (and a heartbeat) of a running job outside the pipeline.</summary>
    public Task ReportAsync(Guid jobId, string phase, long bytesDone, long? bytesTotal, long filesDone, long? filesTotal, CancellationToken ct = default) =>
        ReportAsync(jobId, new JobProgressReport(phase, bytesDone, bytesTotal, filesDone, filesTotal), ct);

    /// <summary>
    /// Records progress (and a heartbeat) of a running job outside the pipeline. Returns the job's status as stored:
    /// Cancelling tells the runner that someone asked to cancel.
    /// </summary>
    public async Task<JobStatus> ReportAsync(Guid jobId, JobProgressReport report, CancellationToken ct = default) =>
        (await SaveReportAsync(jobId, null, report, ct)).Status;

    /// <inheritdoc />
    public async Task<Pipeline.JobControl> ReportAsync(Pipeline.JobLease lease, JobProgressReport report, CancellationToken ct)
    {
        var (status, attempt) = await SaveReportAsync(lease.JobId, lease, report, ct);
        return attempt != lease.Attempt || status is not (JobStatus.InProgress or JobStatus.Cancelling) ? Pipeline.JobControl.Lost
            : status == JobStatus.Cancelling ? Pipeline.JobControl.Cancel
            : Pipeline.JobControl.Continue;
    }

    private async Task<(JobStatus Status, int Attempt)> SaveReportAsync(Guid jobId, Pipeline.JobLease? lease, JobProgressReport report, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var job = await db.Jobs.FirstOrDefaultAsync(j => j.Id == jobId, ct);
        if (job is null || (lease is not null && job.RunBy != lease.Executor))
            return (JobStatus.Failed, -1); // not this executor's job (a machine naming another's): lost, and nothing changes
        if (job.Status.IsFinished() || job.Status == JobStatus.Queued || (lease is { } l && l.Attempt != job.Attempt))
            return (job.Status, job.Attempt); // finished, handed back, or taken over: this report is stale
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
            // the job changed meanwhile (cancel asked, finished, taken over, or a newer report): this report is stale
            await using var fresh = await dbFactory.CreateDbContextAsync(ct);
            var now2 = await fresh.Jobs.Where(j => j.Id == jobId).Select(j => new { j.Status, j.Attempt }).FirstAsync(ct);
            return (now2.Status, now2.Attempt);
        }

        await ChangedAsync(db, job, ct);
        return (job.Status, job.Attempt);
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

    /// <inheritdoc />
    public async Task LogAsync(Pipeline.JobLease lease, JobLogLevel level, IReadOnlyList<string> lines, CancellationToken ct)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            if (await db.Jobs.Where(j => j.Id == lease.JobId).Select(j => new { j.Attempt, j.RunBy }).FirstOrDefaultAsync(ct) is not { } current
                || current.Attempt != lease.Attempt || current.RunBy != lease.Executor)
                return; // another attempt (or executor) writes this job's log now
        await LogAsync(lease.JobId, level, lines, ct);
    }

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
                job.Message = job.Attempt == 0 ? $"Cancelled by {by} before it started." : $"Cancelled by {by} while it waited to be resumed.";
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
            if (job.Status.IsFinished())
                await FinishedAsync(job);
            await ChangedAsync(db, job, ct);
            return true;
        }
    }

    /// <summary>Records the outcome of a job run outside the pipeline.</summary>
    public Task FinishAsync(Guid jobId, JobStatus status, string? message = null, CancellationToken ct = default) =>
        FinishAsync(jobId, null, status, message, ct);

    /// <inheritdoc />
    public Task<bool> FinishAsync(Pipeline.JobLease lease, Pipeline.JobOutcome outcome, CancellationToken ct) =>
        FinishAsync(lease.JobId, lease.Attempt, outcome.Status, outcome.Message, ct, lease.Executor);

    private async Task<bool> FinishAsync(Guid jobId, int? leaseAttempt, JobStatus status, string? message, CancellationToken ct, string? executor = null)
    {
        if (!status.IsFinished())
            throw new ArgumentOutOfRangeException(nameof(status), "A job finishes as Completed, CompletedWithWarnings, Failed or Cancelled.");
        for (var attempt = 1; ; attempt++)
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var job = await db.Jobs.FirstAsync(j => j.Id == jobId, ct);
            if (leaseAttempt is { } a && (job.Attempt != a || (executor is not null && job.RunBy != executor)
                                          || job.Status is not (JobStatus.InProgress or JobStatus.Cancelling)))
                return false; // taken over or finished elsewhere: the other run's outcome stands
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

            JobTelemetry.Finished(job);
            await ChangedAsync(db, job, ct);
            return true;
        }
    }

    /// <inheritdoc />
    public async Task ReleaseAsync(Pipeline.JobLease lease, string reason, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var job = await db.Jobs.FirstOrDefaultAsync(j => j.Id == lease.JobId && j.Attempt == lease.Attempt && j.RunBy == lease.Executor, ct);
        if (job is null || job.Status is not (JobStatus.InProgress or JobStatus.Cancelling))
            return;
        if (job.Status == JobStatus.Cancelling)
        {
            await FinishAsync(lease.JobId, lease.Attempt, JobStatus.Cancelled, job.Message + " " + reason, ct, lease.Executor);
            return;
        }

        job.Status = JobStatus.Queued;
        job.CurrentPath = null;
        job.BytesPerSecond = null;
        db.JobLog.Add(new JobLogEntry { JobId = job.Id, At = clock.GetUtcNow().UtcDateTime, Level = JobLogLevel.Warning, Text = reason });
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            return; // cancelled or reported in between: the sweep hands it on if it still needs to be
        }

        await ChangedAsync(db, job, ct);
    }

    /// <summary>
    /// Gives up a job that is still queued (its machine stayed offline past its window, or was revoked): Failed with
    /// <paramref name="message"/>, told to the observers (alerts) like any failure. False when it is no longer queued.
    /// </summary>
    public async Task<bool> FailQueuedAsync(Guid jobId, string message, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var job = await db.Jobs.FirstOrDefaultAsync(j => j.Id == jobId && j.Status == JobStatus.Queued, ct);
        if (job is null)
            return false;
        job.Status = JobStatus.Failed;
        job.Message = message;
        job.EndedAt = job.HeartbeatAt = clock.GetUtcNow().UtcDateTime;
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            return false; // claimed or cancelled meanwhile
        }

        await FinishedAsync(job);
        JobTelemetry.Finished(job);
        await ChangedAsync(db, job, ct);
        return true;
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

    /// <summary>How long a queued job may wait (behind a long backup of the same item, or for an executor) before it is given up.</summary>
    public static readonly TimeSpan QueueTimeout = TimeSpan.FromHours(24);

    /// <summary>
    /// Hands on the jobs of executors that went silent (a portal instance killed, a machine gone): a job the pipeline
    /// can resume goes back to the queue for another instance (up to <see cref="JobsOptions.MaxAttempts"/> attempts),
    /// anything else is marked failed with what to do, so none stays "in progress" forever. A job queued for a whole day
    /// is given up. Returns how many jobs were handed on or given up.
    /// </summary>
    public async Task<int> SweepAsync(Func<string?, bool>? resumable = null, CancellationToken ct = default, Func<Job, string?>? interrupted = null)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var deadline = now - settings.LeaseTimeout;
        var queueDeadline = now - QueueTimeout;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var abandoned = await db.Jobs.Where(j => ((j.Status == JobStatus.InProgress || j.Status == JobStatus.Cancelling) && j.HeartbeatAt < deadline)
                                                 || (j.Status == JobStatus.Queued && j.QueuedAt < queueDeadline)).ToListAsync(ct);
        var handedOn = new List<Job>();
        var finished = new List<Job>();
        foreach (var job in abandoned)
        {
            var silentSince = $"The {(job.RunBy?.StartsWith("portal/", StringComparison.Ordinal) == false ? "machine" : "portal instance")} running this job " +
                              $"stopped answering at {job.HeartbeatAt:yyyy-MM-dd HH:mm:ss} UTC";
            if (job.Status == JobStatus.InProgress && job.Operation is not null && resumable?.Invoke(job.Operation) == true && job.Attempt < settings.MaxAttempts)
            {
                job.Status = JobStatus.Queued;
                job.CurrentPath = null;
                job.BytesPerSecond = null;
                db.JobLog.Add(new JobLogEntry { JobId = job.Id, At = now, Level = JobLogLevel.Warning,
                    Text = $"{silentSince} (attempt {job.Attempt}, {job.RunBy}); another instance takes it over and resumes it." });
                handedOn.Add(job);
                continue;
            }

            job.Message = job.Status switch
            {
                JobStatus.Queued => $"Queued at {job.QueuedAt:yyyy-MM-dd HH:mm:ss} UTC and never started within {QueueTimeout.TotalHours:N0} hours: no portal instance could run it. Start it again.",
                JobStatus.Cancelling => $"Cancelled. {silentSince} before it could confirm the cancel.",
                _ when job.Attempt >= settings.MaxAttempts && job.Operation is not null =>
                    $"{silentSince}, for the {Ordinal(job.Attempt)} time; it is not tried again. Run it again once the portal's instances are stable.",
                _ => $"{silentSince}. " + (interrupted?.Invoke(job) ?? (job.Kind == JobKind.Backup
                    ? "Run it again; a backup reuses everything the interrupted one uploaded."
                    : "Run it again.")),
            };
            job.Status = job.Status == JobStatus.Cancelling ? JobStatus.Cancelled : JobStatus.Failed;
            job.EndedAt = now;
            finished.Add(job);
        }

        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            return 0; // one of them reported or was cancelled meanwhile: the next sweep looks again
        }

        foreach (var job in finished)
        {
            await FinishedAsync(job);
            JobTelemetry.Finished(job);
        }

        foreach (var job in abandoned)
            await ChangedAsync(db, job, ct);
        return abandoned.Count;
    }

    private static string Ordinal(int n) => n switch { 1 => "first", 2 => "second", 3 => "third", _ => $"{n}th" };

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

    /// <summary>The last <paramref name="lines"/> lines of the job's log, oldest first: the excerpt shown where a failed job is listed.</summary>
    public async Task<IReadOnlyList<JobLogEntry>> LogTailAsync(Guid id, int lines = 3, CancellationToken ct = default)
    {
        await currentUser.RequireViewerAsync("view jobs");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var tail = await db.JobLog.AsNoTracking().Where(e => e.JobId == id).OrderByDescending(e => e.Id).Take(Math.Clamp(lines, 1, 50)).ToListAsync(ct);
        tail.Reverse();
        return tail;
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
