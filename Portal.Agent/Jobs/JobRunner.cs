using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Agent.State;
using Portal.Engine;
using Portal.Engine.Agents;
using Portal.Engine.Storage;

namespace Portal.Agent.Jobs;

/// <summary>Job states as the portal names them in <see cref="AgentOutcome.Status"/>.</summary>
internal static class OutcomeStatus
{
    public const string Completed = "Completed";
    public const string CompletedWithWarnings = "CompletedWithWarnings";
    public const string Failed = "Failed";
    public const string Cancelled = "Cancelled";
}

/// <summary>What a job's operation hands back: its status, its words, and its typed result.</summary>
internal sealed record JobResult(string Status, string Message, string? Result)
{
    public AgentOutcome ToOutcome() => new(Status, Message, Result);
}

/// <summary>The machine a job runs on, as the jobs need it.</summary>
/// <param name="MachineId">This machine's id.</param>
/// <param name="MachineName">Its name (the host stored in its snapshots).</param>
/// <param name="RepositoryKey">Its repository's key.</param>
/// <param name="AgreementKey">Its agreement private key: opens a restore's grant.</param>
/// <param name="DrillRoot">Where restore drills restore (<c>Restore:DrillRoot</c>); null: <see cref="MachineDrill.DefaultRoot"/>.</param>
/// <param name="SourceRoots">What the portal may back up here (<c>run --source-root</c>); null: anything.</param>
internal sealed record JobMachine(Guid MachineId, string MachineName, RepositoryKey RepositoryKey, ECDiffieHellman AgreementKey, string? DrillRoot = null,
    Folders.SourceRoots? SourceRoots = null);

/// <summary>
/// Runs one claimed job to its outcome, whatever its operation (<see cref="AgentOperations"/>): a first report (so the
/// portal can cancel at once), the operation with progress and log lines through the <see cref="IJobChannel"/>, a
/// final report, and the outcome in words a user understands. Knows nothing of the hub: the worker passes a channel
/// over it, a test a recorder; repositories come from an <see cref="IRepositoryOpener"/>.
/// </summary>
internal sealed class JobRunner(JobMachine machine, IRepositoryOpener repositories, ILogger? logger = null, TimeProvider? time = null)
{
    private readonly ILogger logger = logger ?? NullLogger.Instance;
    private readonly TimeProvider time = time ?? TimeProvider.System;

    /// <summary>
    /// Runs <paramref name="job"/>. Returns the outcome to finish the job with, or null when it must not be finished: the
    /// portal said the lease is lost, or the agent is stopping (<paramref name="stopping"/>; the portal's lease times out
    /// and a later attempt takes over, reusing what this one uploaded).
    /// </summary>
    public async Task<AgentOutcome?> RunAsync(AgentJob job, IJobChannel channel, CancellationToken stopping)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        JobResult result;
        // Heartbeats as often as the portal asks (its lease timeout is a few of them), within sane bounds: a hostile or
        // broken value must neither flood the connection nor let the lease lapse.
        var heartbeat = job.Heartbeat is { } asked ? TimeSpan.FromTicks(Math.Clamp(asked.Ticks, TimeSpan.FromMilliseconds(500).Ticks, TimeSpan.FromMinutes(5).Ticks)) : (TimeSpan?)null;
        var control = new JobControl(channel, cancel, time, heartbeat: heartbeat);
        try
        {
            await control.SendNowAsync();
            cancel.Token.ThrowIfCancellationRequested();
            var context = new JobContext(job, channel, control, machine, repositories, time);
            result = job.Operation switch
            {
                AgentOperations.Backup => await MachineBackup.RunAsync(context, Input(job, WireJson.Default.MachineBackupInput), cancel.Token),
                AgentOperations.Restore => await MachineRestore.RunAsync(context, Input(job, WireJson.Default.MachineRestoreInput), cancel.Token),
                AgentOperations.Drill => await MachineDrill.RunAsync(context, Input(job, WireJson.Default.MachineDrillInput), cancel.Token),
                _ => new JobResult(OutcomeStatus.Failed, $"This agent does not know the operation '{job.Operation}'. Update the agent on this machine.", null),
            };
        }
        catch (OperationCanceledException) when (control.Answer == AgentControl.Lost || (stopping.IsCancellationRequested && control.Answer != AgentControl.Cancel))
        {
            await control.DisposeAsync();
            logger.LogWarning("Job {Job} stopped without finishing: {Why}.", job.Lease.JobId,
                control.Answer == AgentControl.Lost ? "the portal says it is no longer this attempt's" : "the agent is stopping; the portal will hand the job to a later attempt");
            return null;
        }
        catch (OperationCanceledException) when (control.Answer == AgentControl.Cancel)
        {
            result = new JobResult(OutcomeStatus.Cancelled, job.Operation switch
            {
                AgentOperations.Restore => "Cancelled. The files restored before that stay where they were written; none is left half-written. Restore again with \"skip\" to finish the rest.",
                AgentOperations.Drill => "Cancelled. The drill's scratch copy was deleted; the item's data was not touched.",
                _ => "Cancelled. What this backup uploaded stays in the vault and the next backup reuses it; no recovery point was made.",
            }, null);
        }
        catch (Exception e) when (Explain(e, job) is { } words)
        {
            result = new JobResult(OutcomeStatus.Failed, words, null);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Job {Job} ({Operation}) failed unexpectedly.", job.Lease.JobId, job.Operation);
            result = new JobResult(OutcomeStatus.Failed, $"The agent failed unexpectedly: {e.Message} The agent's log on this machine (journalctl -u portal-agent) has the details.", null);
        }

        await control.DisposeAsync();
        if (control.Answer == AgentControl.Lost)
            return null;
        await control.SendNowAsync(); // the final report
        if (result.Status == OutcomeStatus.Failed)
            await TryLogAsync(channel, AgentLogLevel.Error, result.Message);
        return result.ToOutcome();
    }

    private static T Input<T>(AgentJob job, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        try
        {
            return JsonSerializer.Deserialize(job.Input, type) ?? throw new JsonException("empty input");
        }
        catch (JsonException e)
        {
            throw new JobInputException($"The job's input cannot be read by this agent ({e.Message}). Update the agent on this machine.");
        }
    }

    private static async Task TryLogAsync(IJobChannel channel, AgentLogLevel level, string line)
    {
        try
        {
            await channel.LogAsync(level, [line], CancellationToken.None);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // the outcome carries the same words
        }
    }

    /// <summary>What went wrong and what to do, for the failures a machine's job can meet; null for a bug.</summary>
    internal static string? Explain(Exception e, AgentJob job)
    {
        var whatStays = job.Operation switch
        {
            AgentOperations.Restore => "the files restored so far stay",
            AgentOperations.Drill => "the drill's scratch copy was deleted",
            _ => "the next backup reuses what was uploaded",
        };
        return e switch
        {
            JobInputException => e.Message,
            RepositoryLockedException => $"{e.Message} Another operation (a retention run's prune in the portal) holds the machine's repository; try again later.",
            RepositoryKeyMismatchException => "The repository key in this machine's state folder does not open its repository. Run 'portal-agent register' again with the machine's passphrase to write it again.",
            RepositoryNotFoundException => "The machine's repository is not in the vault. Finish the registration with 'portal-agent register' (it makes the repository).",
            SnapshotNotFoundException => $"{e.Message} It may have been removed by the vault's retention; choose another recovery point.",
            RepositoryException => $"The machine's backup data could not be used: {e.Message} Run a check of the vault to see what is damaged.",
            StoreAccessDeniedException denied => $"The portal refused the machine access to its repository: {denied.Reason}",
            StoreException => $"The machine's repository in the vault could not be reached: {e.Message} Check that the portal is reachable from this machine; {whatStays}.",
            UnauthorizedAccessException => $"Access denied: {e.Message} The agent runs as {Environment.UserName}; give that user access, or run the agent as root.",
            IOException => $"{e.Message} Check the disk and the space on this machine; {whatStays}.",
            _ => null,
        };
    }
}

/// <summary>A job's input that this agent cannot use, worded for the user.</summary>
internal sealed class JobInputException(string message) : Exception(message);

/// <summary>What an operation needs of its job: the lease, the channel, the progress, the machine and its repositories.</summary>
internal sealed record JobContext(AgentJob Job, IJobChannel Channel, JobControl Control, JobMachine Machine, IRepositoryOpener Repositories, TimeProvider Time)
{
    /// <summary>The job's id.</summary>
    public Guid JobId => Job.Lease.JobId;

    /// <summary>Its attempt (2 and more: an earlier attempt was interrupted).</summary>
    public int Attempt => Job.Lease.Attempt;

    /// <summary>Adds lines to the job's log (a line that cannot be delivered is dropped).</summary>
    public async Task LogAsync(AgentLogLevel level, IReadOnlyList<string> lines)
    {
        if (lines.Count == 0)
            return;
        try
        {
            for (var i = 0; i < lines.Count; i += 200)
                await Channel.LogAsync(level, [.. lines.Skip(i).Take(200)], CancellationToken.None);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // dropped: the outcome says what matters
        }
    }

    /// <summary>Adds one line to the job's log.</summary>
    public Task LogAsync(AgentLogLevel level, string line) => LogAsync(level, [line]);
}
