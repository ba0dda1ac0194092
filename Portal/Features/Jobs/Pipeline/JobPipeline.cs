using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Data;

namespace Portal.Features.Jobs.Pipeline;

/// <summary>
/// The one way every job runs. Queueing writes the job row (with its typed input) in the caller's transaction, so a
/// queued job, its audit row and what will run it commit together: the row is the trigger, and any instance's
/// <see cref="JobDispatcher"/> claims it. Running a claimed job (<see cref="ExecuteAsync"/>) owns the rest: the
/// cancellation token (a cancel asked on any instance reaches it), the heartbeat, progress, and the outcome ladder —
/// the handler's own outcome, Cancelled with its words, Failed with its explanation, or Failed on a bug with the
/// exception named — and, when this instance stops, handing a resumable job back to the queue for another instance.
/// </summary>
public sealed class JobPipeline(
    IEnumerable<IJobHandler> handlers,
    JobService jobs,
    JobCancellation cancellation,
    TimeProvider clock,
    IOptions<JobsOptions> options,
    ILogger<JobPipeline> logger)
{
    private readonly Dictionary<string, IJobHandler> byName = handlers.ToDictionary(h => h.Name, StringComparer.Ordinal);
    private readonly SemaphoreSlim wake = new(0);

    /// <summary>This instance as an executor of jobs (what a job's "run by" says): the host, the process and the instance.</summary>
    public string ExecutorId { get; } = $"portal/{Environment.MachineName}/{Environment.ProcessId}/{jobs.InstanceId.ToString("N")[..8]}";

    /// <summary>The handlers this instance runs itself (a machine's kinds are run by the machines).</summary>
    public IReadOnlyCollection<string> Operations { get; } = [.. handlers.Where(h => h is not IRemoteJobHandler).Select(h => h.Name)];

    internal IJobHandler? Handler(string operation) => byName.GetValueOrDefault(operation);

    /// <summary>
    /// What a job that cannot be resumed leaves when its executor died, in its kind's words (null when this instance does
    /// not know the kind): the sweep of any instance words the failure with it.
    /// </summary>
    public string? Interrupted(Job job)
    {
        if (job.Operation is null || job.Input is null || !byName.TryGetValue(job.Operation, out var handler))
            return null;
        try
        {
            return handler.InterruptedStored(job.Input);
        }
        catch (Exception e)
        {
            logger.LogWarning("The stored input of job {Job} could not be read: {Reason}", job.Id, e.Message);
            return null;
        }
    }

    /// <summary>Whether a job of <paramref name="operation"/> may be taken over after its executor died.</summary>
    public bool IsResumable(string? operation) => operation is not null && byName.TryGetValue(operation, out var h) && h.Resumable;

    /// <summary>
    /// Adds a queued job to <paramref name="db"/>; it commits with the caller's other changes (its audit row). Call
    /// <see cref="QueuedAsync"/> after the commit to start it at once here and show it on the pages.
    /// </summary>
    public Job Enqueue<TInput>(PortalDbContext db, JobHandler<TInput> handler, TInput input, JobTarget target, string startedBy) where TInput : class
    {
        var job = NewJob(handler, input, target, startedBy, JobStatus.Queued);
        jobs.Stamp(job);
        db.Jobs.Add(job);
        return job;
    }

    /// <summary>Announces a job committed by <see cref="Enqueue"/> and wakes this instance's dispatcher.</summary>
    public async Task QueuedAsync(Job job, CancellationToken ct = default)
    {
        Wake();
        await jobs.AddedAsync(job, ct);
    }

    /// <summary>Queues a job in a transaction of its own.</summary>
    public async Task<Job> EnqueueAsync<TInput>(JobHandler<TInput> handler, TInput input, JobTarget target, string startedBy, CancellationToken ct = default)
        where TInput : class
    {
        Job job;
        await using (var db = await jobs.CreateDbContextAsync(ct))
        {
            job = Enqueue(db, handler, input, target, startedBy);
            await db.SaveChangesAsync(ct);
        }

        await QueuedAsync(job, ct);
        return job;
    }

    /// <summary>
    /// Runs a job here and now, as its first attempt on this instance (work that a schedule already serialized, like a
    /// retention run holding its vault's lock): the job is recorded, run and finished like any other, and another
    /// instance resumes it if this one dies. Returns the job as it ended.
    /// </summary>
    public async Task<Job> RunHereAsync<TInput>(JobHandler<TInput> handler, TInput input, JobTarget target, string startedBy, CancellationToken ct)
        where TInput : class
    {
        var job = NewJob(handler, input, target, startedBy, JobStatus.InProgress);
        job.Attempt = 1;
        job.RunBy = ExecutorId;
        await jobs.AddAsync(job, ct);
        await ExecuteAsync(handler, new ClaimedJob(new JobLease(job.Id, 1, ExecutorId), handler.Name, job.Input!), job, ct);
        return await jobs.GetAsync(job.Id, CancellationToken.None) ?? job;
    }

    private static Job NewJob<TInput>(JobHandler<TInput> handler, TInput input, JobTarget target, string startedBy, JobStatus status) where TInput : class =>
        new()
        {
            Kind = handler.Kind, Status = status, Operation = handler.Name, Input = JobHandler<TInput>.Serialize(input),
            ConcurrencyKey = handler.ConcurrencyKey(input), VaultId = target.VaultId, VaultName = target.VaultName, ItemId = target.ItemId,
            Subject = target.Subject, StartedBy = startedBy, MachineId = target.MachineId,
        };

    /// <summary>Wakes the dispatcher (a job was queued here, or one of this instance's jobs ended).</summary>
    internal void Wake()
    {
        if (wake.CurrentCount == 0)
            wake.Release();
    }

    /// <summary>Waits until woken or <paramref name="timeout"/> passes.</summary>
    internal Task WaitAsync(TimeSpan timeout, CancellationToken ct) => wake.WaitAsync(timeout, ct);

    /// <summary>Runs one claimed attempt of a job to its outcome (never throws, except when this instance stops).</summary>
    internal async Task ExecuteAsync(IJobHandler handler, ClaimedJob claimed, Job? known, CancellationToken stopping)
    {
        var lease = claimed.Lease;
        using var registration = cancellation.Register(lease.JobId, stopping);
        var tracker = new JobProgressTracker(lease, jobs, clock, registration, logger);
        var job = known ?? await jobs.GetAsync(lease.JobId, CancellationToken.None) ?? new Job { Id = lease.JobId };
        var run = new JobRun(lease, job, jobs, tracker);
        JobOutcome outcome;
        using (tracker.StartHeartbeat(options.Value.HeartbeatInterval))
        {
            try
            {
                if (lease.Attempt > 1)
                    await run.LogAsync(JobLogLevel.Info, $"Attempt {lease.Attempt} started on {lease.Executor}.");
                outcome = await handler.RunStoredAsync(claimed.Input, run, registration.Token);
                await run.FlushAsync();
            }
            catch (OperationCanceledException) when (registration.Token.IsCancellationRequested)
            {
                await run.FlushAsync();
                if (registration.Lost)
                {
                    logger.LogWarning("Job {Job} attempt {Attempt} stopped: another executor runs it now", lease.JobId, lease.Attempt);
                    return;
                }

                if (stopping.IsCancellationRequested && (await jobs.GetAsync(lease.JobId, CancellationToken.None))?.Status != JobStatus.Cancelling)
                {
                    await StoppedAsync(handler, claimed, run);
                    return;
                }

                outcome = new JobOutcome(JobStatus.Cancelled, handler.CancelledStored(claimed.Input));
            }
            catch (Exception e) when (Explain(handler, e, claimed.Input) is { } message)
            {
                await run.FlushAsync();
                logger.LogWarning("{Operation} job {Job} failed: {Reason}", handler.Name, lease.JobId, e.Message);
                await run.LogAsync(JobLogLevel.Error, message);
                outcome = JobOutcome.Failed(message);
            }
            catch (Exception e)
            {
                // A bug, not a condition the handler knows: the job must still end (never "in progress" until the sweep).
                logger.LogError(e, "{Operation} job {Job} failed unexpectedly", handler.Name, lease.JobId);
                await run.FlushAsync();
                outcome = JobOutcome.Failed(handler.Unexpected(e));
            }
        }

        if (outcome.Status is not (JobStatus.Completed or JobStatus.CompletedWithWarnings))
            await AbandonedAsync(handler, claimed, run, outcome.Status);
        if (!await jobs.FinishAsync(lease, outcome, CancellationToken.None))
            logger.LogWarning("Job {Job} attempt {Attempt} ended as {Status}, but another executor runs it now: its outcome stands", lease.JobId, lease.Attempt, outcome.Status);
        Wake();
    }

    /// <summary>The operations machines run (their jobs are never claimed by a portal instance).</summary>
    public IReadOnlyCollection<string> RemoteOperations => [.. byName.Values.OfType<IRemoteJobHandler>().Select(h => h.Name)];

    /// <summary>The input a machine receives for a job it claimed (<see cref="IRemoteJobHandler.ForExecutorStoredAsync"/>).</summary>
    public async Task<string> ForExecutorAsync(ClaimedJob claimed, CancellationToken ct) =>
        byName.GetValueOrDefault(claimed.Operation) is IRemoteJobHandler remote ? await remote.ForExecutorStoredAsync(claimed.Input, claimed.Lease, ct) : claimed.Input;

    /// <summary>
    /// Preparing a claimed job for its machine failed (<see cref="ForExecutorAsync"/>: its item is gone, a grant cannot be
    /// made): the job fails here in its handler's words, or as a bug named as such.
    /// </summary>
    public async Task<bool> FailRemoteAsync(ClaimedJob claimed, Exception e, CancellationToken ct)
    {
        var handler = byName.GetValueOrDefault(claimed.Operation);
        var explained = handler is null ? null : Explain(handler, e, claimed.Input);
        if (explained is null)
            logger.LogError(e, "Preparing {Operation} job {Job} for its machine failed", claimed.Operation, claimed.Lease.JobId);
        var message = explained ?? handler?.Unexpected(e) ?? $"This portal cannot run jobs of kind \"{claimed.Operation}\": its version is older than the job's.";
        return await jobs.FinishAsync(claimed.Lease, JobOutcome.Failed(message), ct);
    }

    /// <summary>
    /// A machine ended its attempt: the job's handler completes it here (verifies and records what the machine made), with
    /// the same outcome ladder as a local run (the handler's words for failures it knows, a bug named as such). False when the
    /// lease is no longer the job's (the sweep failed it meanwhile, or it was finished).
    /// </summary>
    public async Task<bool> CompleteRemoteAsync(JobLease lease, RemoteOutcome remote, CancellationToken ct)
    {
        var job = await jobs.GetAsync(lease.JobId, ct);
        if (job is null || job.Attempt != lease.Attempt || job.RunBy != lease.Executor || job.Status is not (JobStatus.InProgress or JobStatus.Cancelling))
            return false;
        if (!remote.Status.IsFinished())
            remote = remote with { Status = JobStatus.Failed, Message = $"The machine ended the job with the status {remote.Status}, which is not an outcome." };
        if (job.Operation is null || byName.GetValueOrDefault(job.Operation) is not IRemoteJobHandler handler)
            return await jobs.FinishAsync(lease, JobOutcome.Failed($"This portal cannot complete jobs of kind \"{job.Operation}\": its version is older than the job's."), ct);
        using var registration = cancellation.Register(lease.JobId, CancellationToken.None);
        var run = new JobRun(lease, job, jobs, new JobProgressTracker(lease, jobs, clock, registration, logger));
        JobOutcome outcome;
        try
        {
            outcome = await handler.CompleteStoredAsync(job.Input ?? "{}", remote, run, ct);
        }
        catch (Exception e) when (Explain(handler, e, job.Input ?? "{}") is { } message)
        {
            logger.LogWarning("{Operation} job {Job} failed on completion: {Reason}", handler.Name, lease.JobId, e.Message);
            await run.LogAsync(JobLogLevel.Error, message);
            outcome = JobOutcome.Failed(message);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "{Operation} job {Job} failed unexpectedly on completion", handler.Name, lease.JobId);
            outcome = JobOutcome.Failed(handler.Unexpected(e));
        }

        await run.FlushAsync();
        return await jobs.FinishAsync(lease, outcome, ct);
    }

    /// <summary>This instance stops: a resumable job goes back to the queue for another instance; any other fails with why.</summary>
    private async Task StoppedAsync(IJobHandler handler, ClaimedJob claimed, JobRun run)
    {
        var lease = claimed.Lease;
        if (handler.Resumable)
        {
            await jobs.ReleaseAsync(lease, $"The portal instance {lease.Executor} stopped during attempt {lease.Attempt}; another instance resumes the job.",
                CancellationToken.None);
            return;
        }

        await AbandonedAsync(handler, claimed, run, JobStatus.Failed);
        await jobs.FinishAsync(lease, JobOutcome.Failed($"The portal instance running this job stopped. {handler.InterruptedStored(claimed.Input)}"), CancellationToken.None);
    }

    private async Task AbandonedAsync(IJobHandler handler, ClaimedJob claimed, JobRun run, JobStatus status)
    {
        try
        {
            await handler.AbandonedStored(claimed.Input, run, status);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Cleaning up after {Operation} job {Job} failed", handler.Name, claimed.Lease.JobId);
        }
    }

    private string? Explain(IJobHandler handler, Exception e, string input)
    {
        try
        {
            return handler.ExplainStored(e, input);
        }
        catch (Exception explainError)
        {
            logger.LogError(explainError, "{Operation} could not explain a failure", handler.Name);
            return null;
        }
    }
}
