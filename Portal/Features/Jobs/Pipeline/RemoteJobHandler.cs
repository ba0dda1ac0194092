namespace Portal.Features.Jobs.Pipeline;

/// <summary>What the pipeline needs of a kind of job that a machine runs (see <see cref="RemoteJobHandler{TInput, TResult}"/>).</summary>
public interface IRemoteJobHandler : IJobHandler
{
    /// <summary>The input as the executor receives it: the stored input plus what must never be stored (a grant's key).</summary>
    Task<string> ForExecutorStoredAsync(string input, JobLease lease, CancellationToken ct);

    /// <summary>Turns the executor's outcome into the job's, in the portal (verify, record, and word it).</summary>
    Task<JobOutcome> CompleteStoredAsync(string input, RemoteOutcome outcome, JobRun run, CancellationToken ct);
}

/// <summary>How a machine says its run ended: a status, its words, and the operation's typed result as JSON.</summary>
public sealed record RemoteOutcome(JobStatus Status, string? Message, string? Result);

/// <summary>
/// A kind of job that a registered machine's agent runs: the job is queued like any other (with its machine), the agent
/// claims it through its connection, reports progress and its log under the lease, and ends it with its typed
/// <typeparamref name="TResult"/>; the portal then completes it here (<see cref="CompleteAsync"/>: a backup's snapshot is
/// verified in storage before its recovery point is recorded). Not resumable: an agent that stops answering leaves a
/// failed job, worded by the sweep with the machine's silence and <see cref="JobHandler{TInput}.Interrupted"/>.
/// </summary>
/// <typeparam name="TInput">What is stored with the job.</typeparam>
/// <typeparam name="TAgentInput">What the agent receives when it claims the job (built then: the item as it is now, a grant's key).</typeparam>
/// <typeparam name="TResult">What the agent reports at the end.</typeparam>
public abstract class RemoteJobHandler<TInput, TAgentInput, TResult> : JobHandler<TInput>, IRemoteJobHandler
    where TInput : class where TAgentInput : class where TResult : class
{
    public override bool Resumable => false;

    /// <summary>Never runs in a portal instance: portal instances do not claim a machine's jobs.</summary>
    public sealed override Task<JobOutcome> RunAsync(TInput input, JobRun run, CancellationToken ct) =>
        throw new InvalidOperationException($"Jobs of kind {Name} run on a machine, not in the portal.");

    /// <summary>The input as the agent receives it, made when it claims the job (may add what is never stored, like a grant's key).</summary>
    protected abstract Task<TAgentInput> ForExecutorAsync(TInput input, JobLease lease, CancellationToken ct);

    /// <summary>
    /// The job's outcome from the machine's: <paramref name="result"/> is null when the machine sent none (it failed or was
    /// cancelled before it had one). Throw to fail: <see cref="JobHandler{TInput}.Explain"/> words it.
    /// </summary>
    protected abstract Task<JobOutcome> CompleteAsync(TInput input, RemoteOutcome outcome, TResult? result, JobRun run, CancellationToken ct);

    async Task<string> IRemoteJobHandler.ForExecutorStoredAsync(string input, JobLease lease, CancellationToken ct) =>
        System.Text.Json.JsonSerializer.Serialize(await ForExecutorAsync(Deserialize(input), lease, ct), Json);

    Task<JobOutcome> IRemoteJobHandler.CompleteStoredAsync(string input, RemoteOutcome outcome, JobRun run, CancellationToken ct)
    {
        var result = string.IsNullOrWhiteSpace(outcome.Result) ? null : System.Text.Json.JsonSerializer.Deserialize<TResult>(outcome.Result, Json);
        return CompleteAsync(Deserialize(input), outcome, result, run, ct);
    }
}
