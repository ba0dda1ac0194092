using System.Text.Json;
using Portal.Agent.State;
using Portal.Engine.Agents;
using Portal.Engine.Operations;
using EngineStatus = Portal.Engine.Progress.OperationStatus;

namespace Portal.Agent.Jobs;

/// <summary>
/// A backup of one folder of this machine into its repository, as the portal's backup job does on its host: the
/// pre-backup script (its success makes the point application-consistent; its failure or timeout leaves it file-system
/// consistent with a warning naming the exit code, and the backup goes on), the backup tagged with the job, and the
/// post-backup script always (even after a failure or a cancel). A later attempt of the same job first looks for the
/// snapshot tagged <c>job:ID</c> that an interrupted attempt wrote, and reports it (Reused) instead of backing up twice.
/// </summary>
internal static class MachineBackup
{
    /// <summary>How many warnings the result carries (the job's log has all of them).</summary>
    public const int MaxResultWarnings = 100;

    /// <summary>The tag that marks a job's snapshot (the portal's BackupJob.JobTag).</summary>
    public static string JobTag(Guid jobId) => $"job:{jobId:N}";

    /// <summary>Runs the backup.</summary>
    public static async Task<JobResult> RunAsync(JobContext context, MachineBackupInput input, CancellationToken ct)
    {
        var source = input.SourcePath;
        var jobTag = JobTag(context.JobId);
        PathFilter filter;
        try
        {
            filter = PathFilter.Create(input.Include, input.Exclude);
        }
        catch (ArgumentException e)
        {
            return Failed($"The item's include or exclude patterns are not valid: {e.Message} Change them in the portal.");
        }

        context.Control.Phase("Opening the repository");
        using var engine = await context.Repositories.OpenAsync(null, context.Machine.RepositoryKey, ct);
        if (context.Attempt > 1 && (await engine.FindSnapshotsByTagAsync(jobTag, cancellationToken: ct)).FirstOrDefault() is { } earlier)
        {
            // The interrupted attempt wrote its snapshot but could not report it: report that one, do not make a second.
            // Its scripts' outcome died with it: the point is not claimed application-consistent.
            await context.LogAsync(AgentLogLevel.Info, $"An earlier attempt of this job wrote recovery point {earlier.ShortId} before it stopped; it is this job's point.");
            var reused = new MachineBackupResult(earlier.Id, earlier.Files, earlier.Bytes, earlier.BytesAdded, [], ApplicationConsistent: false, Reused: true);
            return new JobResult(earlier.Status == EngineStatus.Completed ? OutcomeStatus.Completed : OutcomeStatus.CompletedWithWarnings,
                $"Recovery point {earlier.ShortId} was written by an earlier attempt of this job: {earlier.Files:N0} files, {Bytes.Format(earlier.Bytes)}.",
                Serialize(reused));
        }

        if (context.Machine.SourceRoots is { Restricted: true } roots && roots.Check(source, out _) is { } outside)
            return Failed($"{outside} The agent's --source-root options say what may be backed up on this machine: choose a folder inside them, or widen them.");
        if (!Directory.Exists(source))
            return Failed($"The folder {source} does not exist on this machine. Restore it or change the item's folder in the portal, then back up again.");

        var tags = input.Tags.Contains(jobTag, StringComparer.Ordinal) ? input.Tags : [.. input.Tags, jobTag];
        var timeout = input.ScriptTimeoutSeconds > 0 ? TimeSpan.FromSeconds(input.ScriptTimeoutSeconds) : AgentScripts.DefaultTimeout;
        var scriptWarnings = new List<string>();
        var consistent = false;
        BackupResult result;
        try
        {
            if (!string.IsNullOrWhiteSpace(input.PreScript))
            {
                context.Control.Phase("Pre-backup script");
                var pre = await AgentScripts.RunAsync(context.Channel, context.JobId, "pre-backup", input.PreScript, source, timeout, ct);
                if (pre.Succeeded)
                    consistent = true;
                else
                    scriptWarnings.Add(pre.Describe() + " The backup went on: this recovery point is file-system consistent, not application-consistent.");
            }

            var request = new BackupRequest(source) { Filter = filter, Tags = tags, Host = context.Machine.MachineName, KeepUntil = input.KeepUntil };
            result = await engine.BackupAsync(request, context.Control, ct);
        }
        finally
        {
            if (!string.IsNullOrWhiteSpace(input.PostScript))
            {
                context.Control.Phase("Post-backup script");
                var post = await AgentScripts.RunAsync(context.Channel, context.JobId, "post-backup", input.PostScript, source, timeout, CancellationToken.None);
                if (!post.Succeeded)
                    scriptWarnings.Add(post.Describe());
            }
        }

        var kind = consistent ? "application-consistent" : "file-system consistent";
        var summary = $"Recovery point {result.SnapshotId[..8]} ({kind}): {result.Files:N0} files, {Bytes.Format(result.Bytes)}; read {result.FilesRead:N0} new or changed files, " +
                      $"{result.FilesUnchanged:N0} unchanged; added {Bytes.Format(result.BytesAdded)} to the vault.";
        await context.LogAsync(AgentLogLevel.Info, summary);
        if (result.Warnings.Count > 0)
            await context.LogAsync(AgentLogLevel.Warning, result.Warnings);
        var warnings = scriptWarnings.Concat(result.Warnings).ToList();
        var clean = result.Status == EngineStatus.Completed && scriptWarnings.Count == 0;
        var explanation = string.Join(" ", scriptWarnings) + (result.Warnings.Count > 0
            ? $" {result.Warnings.Count} item(s) could not be read and are not in this recovery point; the log lists each with its path. Check their permissions on this machine."
            : "");
        var resultWarnings = warnings.Count <= MaxResultWarnings ? warnings
            : [.. warnings.Take(MaxResultWarnings), $"… and {warnings.Count - MaxResultWarnings:N0} more (the job's log lists them)."];
        var made = new MachineBackupResult(result.SnapshotId, result.Files, result.Bytes, result.BytesAdded, resultWarnings, consistent, Reused: false,
            FilesRead: result.FilesRead, FilesUnchanged: result.FilesUnchanged);
        return new JobResult(clean ? OutcomeStatus.Completed : OutcomeStatus.CompletedWithWarnings, clean ? summary : (explanation.Trim() + " " + summary), Serialize(made));
    }

    private static JobResult Failed(string message) => new(OutcomeStatus.Failed, message, null);

    private static string Serialize(MachineBackupResult result) => JsonSerializer.Serialize(result, WireJson.Default.MachineBackupResult);
}

/// <summary>Sizes in words.</summary>
internal static class Bytes
{
    /// <summary>1.5 GiB, 20.0 MiB, 3.0 KiB, 12 B.</summary>
    public static string Format(long b) => b switch
    {
        >= 1L << 30 => $"{b / (double)(1L << 30):0.0} GiB",
        >= 1L << 20 => $"{b / (double)(1L << 20):0.0} MiB",
        >= 1L << 10 => $"{b / 1024.0:0.0} KiB",
        _ => $"{b} B",
    };
}
