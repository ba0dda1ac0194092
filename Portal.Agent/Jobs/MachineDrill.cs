using System.Diagnostics;
using System.Text.Json;
using Portal.Agent.State;
using Portal.Engine.Agents;
using Portal.Engine.Operations;
using EngineStatus = Portal.Engine.Progress.OperationStatus;

namespace Portal.Agent.Jobs;

/// <summary>
/// A restore drill on this machine: a point of its own repository, whole or the files the portal chose, restored into a
/// folder of its own under the drill root (<c>Restore:DrillRoot</c>: the agent's <c>run --drill-root</c> or the
/// <c>Restore__DrillRoot</c> environment variable; by default a folder under the system's temporary folder), every file
/// checked against the point's listing (size and modification time; the restore verifies the content), and deleted
/// again whatever happened. The portal judges and records the result.
/// </summary>
internal static class MachineDrill
{
    public static string DefaultRoot => Path.Combine(Path.GetTempPath(), "portal-agent-drills");

    public static async Task<JobResult> RunAsync(JobContext context, MachineDrillInput input, CancellationToken ct)
    {
        var root = context.Machine.DrillRoot ?? DefaultRoot;
        if (!Path.IsPathFullyQualified(root))
            return Failed($"The drill folder '{root}' (Restore:DrillRoot) is not an absolute path on this machine. Set one that starts with /.");
        var scratch = Path.Combine(root, $"drill-{context.JobId:N}");
        CreatePrivate(root);
        CreatePrivate(scratch); // restored data is readable by the agent's user only
        try
        {
            context.Control.Phase("Opening the repository");
            using var engine = await context.Repositories.OpenAsync(null, context.Machine.RepositoryKey, ct);
            var listing = (await engine.ListTreeAsync(input.SnapshotId, cancellationToken: ct)).Where(e => e.Type == EntryType.File).ToList();
            var wanted = input.Paths.Count == 0 ? listing : listing.Where(e => input.Paths.Contains(e.Path, StringComparer.Ordinal)).ToList();
            IEnumerable<string> missing = input.Paths.Count == 0 ? [] : input.Paths.Except(listing.Select(e => e.Path), StringComparer.Ordinal).Select(p => $"{p}: not in the recovery point's listing.");
            var watch = Stopwatch.StartNew();
            var restore = await engine.RestoreAsync(new RestoreRequest(input.SnapshotId, scratch) { Include = input.Paths, Flush = true }, context.Control, ct); // timed until on disk, as the portal's drills
            watch.Stop();
            var check = RestoredFilesCheck.Compare(scratch, wanted);
            var problems = restore.Errors.Concat(missing).Concat(check.Problems).ToList();
            var words = $"Restored {check.Files:N0} file(s) ({Bytes.Format(check.Bytes)}) of recovery point {input.SnapshotId[..Math.Min(8, input.SnapshotId.Length)]} into {scratch} " +
                        $"in {watch.Elapsed.TotalSeconds:0.0} s, checked against the point's listing" + (problems.Count == 0 ? "." : $"; {problems.Count:N0} problem(s).");
            await context.LogAsync(AgentLogLevel.Info, [words]);
            if (problems.Count > 0)
                await context.LogAsync(AgentLogLevel.Error, problems.Take(200).ToList());
            var result = new MachineDrillResult(input.SnapshotId, check.Files, check.Bytes, watch.Elapsed.TotalSeconds, restore.StorageReads, restore.StorageBytesRead,
                restore.Status == EngineStatus.Completed, Cap(problems), scratch, restore.Setup.TotalSeconds);
            return new JobResult(OutcomeStatus.Completed, words, JsonSerializer.Serialize(result, WireJson.Default.MachineDrillResult));
        }
        finally
        {
            try { Directory.Delete(scratch, recursive: true); }
            catch (DirectoryNotFoundException) { }
        }
    }

    private static IReadOnlyList<string> Cap(IReadOnlyList<string> lines) =>
        lines.Count <= MachineBackup.MaxResultWarnings ? lines
            : [.. lines.Take(MachineBackup.MaxResultWarnings), $"… and {lines.Count - MachineBackup.MaxResultWarnings:N0} more (the job's log lists them)."];

    private static void CreatePrivate(string folder)
    {
        if (OperatingSystem.IsWindows())
            Directory.CreateDirectory(folder);
        else
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private static JobResult Failed(string message) => new(OutcomeStatus.Failed, message, null);
}
