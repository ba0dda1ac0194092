using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using Portal.Agent.State;
using Portal.Engine;
using Portal.Engine.Agents;
using Portal.Engine.Crypto;
using Portal.Engine.Operations;
using EngineStatus = Portal.Engine.Progress.OperationStatus;

namespace Portal.Agent.Jobs;

/// <summary>
/// A restore of a recovery point onto this machine, as the portal's restore job does on its host: into the target
/// folder, or the point's original folder, with the conflict option (copies named "yyyy-MM-dd HH-mm Copy of NAME", as
/// the portal names them). A point of another machine of the vault is read under the job's grant: that machine's
/// repository key, sealed by the portal to this machine's agreement key for this job alone. A later attempt of the same
/// job, and the retry of a failed restore, keep what an earlier one restored and verified (<see cref="RestoreRequest.Resume"/>).
/// </summary>
internal static class MachineRestore
{
    /// <summary>Runs the restore.</summary>
    public static async Task<JobResult> RunAsync(JobContext context, MachineRestoreInput input, CancellationToken ct)
    {
        if (ParseConflict(input.Conflict) is not { } conflict)
            return Failed($"The conflict option '{input.Conflict}' is not one this agent knows (Overwrite, Skip or CreateCopy). Update the agent on this machine.");
        if (input.Target is { } target && !Path.IsPathFullyQualified(target))
            return Failed($"The restore folder '{target}' is not an absolute path on this machine. Choose a folder that starts with /.");

        var own = input.SourceMachineId == Guid.Empty || input.SourceMachineId == context.Machine.MachineId;
        RepositoryKey key;
        if (input.GrantedKey is { } granted)
        {
            if (OpenGrant(context.Machine.AgreementKey, granted, context.JobId) is not { } opened)
                return Failed("The key the portal granted for this restore cannot be opened by this machine's key. Start the restore again; " +
                              "if it fails again, this machine's state folder may not be the one it registered with (register it again).");
            key = opened;
        }
        else if (own)
        {
            key = context.Machine.RepositoryKey;
        }
        else
        {
            return Failed("The restore reads another machine's backups but carries no key for them. Start the restore again from the portal.");
        }

        context.Control.Phase("Opening the repository");
        using var engine = await context.Repositories.OpenAsync(own ? null : input.SourceMachineId, key, ct);
        var snapshots = await engine.ListSnapshotsAsync(cancellationToken: ct);
        var point = snapshots.FirstOrDefault(s => s.Id == input.SnapshotId)
                    ?? (input.SnapshotId.Length >= 8 ? snapshots.SingleOrDefault(s => s.Id.StartsWith(input.SnapshotId, StringComparison.Ordinal)) : null);
        if (point is null)
            return Failed($"Recovery point {Short(input.SnapshotId)} is not in the machine's repository; the vault's retention may have removed it. Choose another point.");

        var destination = input.Target ?? point.Paths.FirstOrDefault();
        if (string.IsNullOrEmpty(destination) || !Path.IsPathFullyQualified(destination))
            return Failed($"Recovery point {point.ShortId} does not record an original folder on this machine. Restore it to a folder you choose.");

        var result = await engine.RestoreAsync(new RestoreRequest(point.Id, destination)
        {
            Include = [.. input.Paths.Where(p => !string.IsNullOrWhiteSpace(p))],
            Conflict = conflict,
            CopyPrefix = $"{point.Time.UtcDateTime:yyyy-MM-dd HH-mm} Copy of ",
            // An earlier attempt stopped, or this retries a failed restore: keep what it restored and verified (no second copies).
            Resume = context.Attempt > 1 || input.Resume,
        }, context.Control, ct);

        var counts = $"Restored {result.FilesRestored:N0} file(s) ({Bytes.Format(result.BytesRestored)}) to {destination}; " +
                     (result.FilesAlreadyComplete > 0 ? $"kept {result.FilesAlreadyComplete:N0} an earlier attempt restored and verified; " : "") +
                     $"skipped {result.Skipped:N0} already there; {result.Errors.Count:N0} failed.";
        await context.LogAsync(AgentLogLevel.Info, counts);
        if (result.Warnings.Count > 0)
            await context.LogAsync(AgentLogLevel.Warning, result.Warnings);
        if (result.Errors.Count > 0)
            await context.LogAsync(AgentLogLevel.Error, result.Errors);
        var status = result.Status == EngineStatus.Completed ? OutcomeStatus.Completed
            : result.FilesRestored > 0 ? OutcomeStatus.CompletedWithWarnings : OutcomeStatus.Failed;
        var message = result.Errors.Count == 0 ? counts
            : counts + " The log lists each failed file with the reason; fix it (space, permissions, a folder in the way) and restore those files again.";
        var made = new MachineRestoreResult(result.FilesRestored + result.FilesAlreadyComplete, result.BytesRestored + result.BytesAlreadyComplete, result.Skipped,
            Cap(result.Errors), Cap(result.Warnings), Cap(result.Copies), destination);
        return new JobResult(status, message, JsonSerializer.Serialize(made, WireJson.Default.MachineRestoreResult));
    }

    /// <summary>The engine's conflict option for the contract's name (any case); null for an unknown one.</summary>
    internal static RestoreConflict? ParseConflict(string? name) => name?.Trim().ToUpperInvariant() switch
    {
        "OVERWRITE" => RestoreConflict.Overwrite,
        "SKIP" => RestoreConflict.Skip,
        "CREATECOPY" or "COPY" => RestoreConflict.CreateCopy,
        _ => null,
    };

    /// <summary>Opens a grant (base64 or base64url of a <see cref="SealedBox"/>); null when it is not one sealed to this machine for this job.</summary>
    internal static RepositoryKey? OpenGrant(ECDiffieHellman agreement, string granted, Guid jobId)
    {
        byte[] box;
        try
        {
            box = Convert.FromBase64String(granted);
        }
        catch (FormatException)
        {
            try
            {
                box = Base64Url.DecodeFromChars(granted);
            }
            catch (FormatException)
            {
                return null;
            }
        }

        try
        {
            var bytes = SealedBox.Open(agreement, box, AgentContexts.Grant(jobId));
            try
            {
                return new RepositoryKey(bytes);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(bytes);
            }
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            return null;
        }
    }

    private static IReadOnlyList<string> Cap(IReadOnlyList<string> lines) =>
        lines.Count <= MachineBackup.MaxResultWarnings ? lines
            : [.. lines.Take(MachineBackup.MaxResultWarnings), $"… and {lines.Count - MachineBackup.MaxResultWarnings:N0} more (the job's log lists them)."];

    private static string Short(string id) => id.Length > 8 ? id[..8] : id;

    private static JobResult Failed(string message) => new(OutcomeStatus.Failed, message, null);
}
