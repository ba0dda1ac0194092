using System.Text.Json;

namespace Portal.Features.Jobs.Pipeline;

/// <summary>What the pipeline needs of any job kind, whatever its input (see <see cref="JobHandler{TInput}"/>).</summary>
public interface IJobHandler
{
    /// <summary>A stable name stored with each job ("backup", "restore-files"…): never rename one that jobs in a database carry.</summary>
    string Name { get; }

    /// <summary>How the job list shows jobs of this kind.</summary>
    JobKind Kind { get; }

    /// <summary>
    /// Whether another portal instance may run the job again after the one running it died: true when a second attempt
    /// finishes the work without doing it twice (a backup reuses the packs uploaded and never makes two recovery points).
    /// </summary>
    bool Resumable { get; }

    /// <summary>Runs the job from its stored input: the pipeline calls it; handlers implement <see cref="JobHandler{TInput}"/>.</summary>
    Task<JobOutcome> RunStoredAsync(string input, JobRun run, CancellationToken ct);

    /// <summary>The handler's own words for a failure it knows (null for a bug).</summary>
    string? ExplainStored(Exception e, string input);

    /// <summary>The outcome of a job stopped by a user's cancel.</summary>
    string CancelledStored(string input);

    /// <summary>The outcome of a job that cannot be resumed when the instance running it stopped.</summary>
    string InterruptedStored(string input);

    /// <summary>The outcome of a job stopped by a bug: what it left and where to look.</summary>
    string Unexpected(Exception e);

    /// <summary>Cleans up after a run that did not complete (cancelled, failed, or handed back to the queue).</summary>
    Task AbandonedStored(string input, JobRun run, JobStatus status);
}

/// <summary>
/// One kind of job: its typed input, what it runs, and how it explains its own failures in its own words. The
/// <see cref="JobPipeline"/> owns everything else (queueing, start, cancellation from any instance, heartbeat,
/// progress, outcome, takeover, telemetry and the alert hooks). Adding a kind is one subclass and one
/// <c>AddJobHandler</c> registration.
/// </summary>
/// <typeparam name="TInput">Everything the job needs to run or resume, serialized with the job (no secrets: it is stored in the database).</typeparam>
public abstract class JobHandler<TInput> : IJobHandler where TInput : class
{
    public abstract string Name { get; }

    public abstract JobKind Kind { get; }

    public virtual bool Resumable => true;

    /// <summary>What the job is called in sentences: "backup", "restore", "check".</summary>
    protected abstract string Noun { get; }

    /// <summary>Jobs with the same key run one at a time, oldest first; null runs beside anything.</summary>
    public abstract string? ConcurrencyKey(TInput input);

    /// <summary>
    /// Does the work and says how it went. <paramref name="run"/> carries progress, the log and the attempt (2 and more:
    /// an earlier attempt was interrupted, so look for what it already did). Throw to fail: <see cref="Explain"/> words it.
    /// </summary>
    public abstract Task<JobOutcome> RunAsync(TInput input, JobRun run, CancellationToken ct);

    /// <summary>What went wrong and what to do, for the failures this kind meets; null for bugs.</summary>
    protected abstract string? Explain(Exception e, TInput input);

    /// <summary>The outcome of a job cancelled by a user (what stays and what to do).</summary>
    protected abstract string Cancelled(TInput input);

    /// <summary>
    /// What a job that cannot be resumed leaves, and what to do, when the instance running it stopped (after "The portal
    /// instance running this job stopped…").
    /// </summary>
    protected virtual string Interrupted(TInput input) => $"Run the {Noun} again.";

    /// <summary>Says what a bug left behind, after "The {noun} stopped on an unexpected error (…).".</summary>
    protected virtual string AfterUnexpected => "The portal's log has the details.";

    /// <summary>Undoes or records what a run that did not complete leaves (a created database dropped, the item's failure recorded).</summary>
    protected virtual Task AbandonedAsync(TInput input, JobRun run, JobStatus status) => Task.CompletedTask;

    public string Unexpected(Exception e) => $"The {Noun} stopped on an unexpected error ({e.GetType().Name}: {e.Message}). {AfterUnexpected}";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    internal static string Serialize(TInput input) => JsonSerializer.Serialize(input, Json);

    internal static TInput Deserialize(string input) =>
        JsonSerializer.Deserialize<TInput>(input, Json) ?? throw new JsonException("The job's stored input is empty.");

    Task<JobOutcome> IJobHandler.RunStoredAsync(string input, JobRun run, CancellationToken ct) => RunAsync(Deserialize(input), run, ct);

    string? IJobHandler.ExplainStored(Exception e, string input) => Explain(e, Deserialize(input));

    string IJobHandler.CancelledStored(string input) => Cancelled(Deserialize(input));

    string IJobHandler.InterruptedStored(string input) => Interrupted(Deserialize(input));

    Task IJobHandler.AbandonedStored(string input, JobRun run, JobStatus status) => AbandonedAsync(Deserialize(input), run, status);
}

/// <summary>How a job ended, in the handler's words.</summary>
public sealed record JobOutcome(JobStatus Status, string? Message)
{
    public static JobOutcome Completed(string? message) => new(JobStatus.Completed, message);
    public static JobOutcome Failed(string message) => new(JobStatus.Failed, message);
}

/// <summary>What a job works on, as the job list shows it; with <paramref name="MachineId"/>, that machine's agent runs it.</summary>
public sealed record JobTarget(Guid? VaultId, string VaultName, Guid? ItemId, string Subject, Guid? MachineId = null);
