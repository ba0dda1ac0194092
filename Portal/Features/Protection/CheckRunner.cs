using Microsoft.EntityFrameworkCore;
using Portal.Engine.Progress;
using Portal.Features.Jobs;
using Quartz;
using JobStatus = Portal.Features.Jobs.JobStatus;

namespace Portal.Features.Protection;

/// <summary>
/// Integrity check of a vault as a job: the engine verifies every snapshot's trees and that every blob they need is
/// indexed in an existing pack (and, with "read data", decrypts and verifies every blob). Problems are listed in
/// the job's log with the recovery points and files they touch.
/// </summary>
public sealed class CheckRunner(
    IDbContextFactory<PortalDbContext> dbFactory, VaultKeys keys, JobService jobs, JobCancellation cancellation, TimeProvider clock, ILogger<CheckRunner> logger)
{
    public async Task RunAsync(Guid jobId, Guid vaultId, bool readData, CancellationToken stopping)
    {
        if (!await jobs.BeginAsync(jobId, stopping))
            return;
        using var registration = cancellation.Register(jobId, stopping);
        try
        {
            Vaults.Vault vault;
            await using (var db = await dbFactory.CreateDbContextAsync(registration.Token))
                vault = await db.Vaults.AsNoTracking().FirstAsync(v => v.Id == vaultId, registration.Token);
            using var engine = await keys.OpenAsync(vault.Id, vault.Name, vault.Region, registration.Token);
            var tracker = new JobProgressTracker(jobId, jobs, clock, registration, logger);
            using var heartbeat = tracker.StartHeartbeat(BackupRunner.HeartbeatInterval);
            var result = await engine.CheckAsync(readData, tracker.Throttled(BackupRunner.ReportInterval), registration.Token);
            await tracker.FlushAsync();
            if (result.Notes.Count > 0)
                await jobs.LogAsync(jobId, JobLogLevel.Info, result.Notes, CancellationToken.None);
            if (result.IsHealthy)
            {
                await jobs.FinishAsync(jobId, JobStatus.Completed,
                    $"No problems: {result.Snapshots} recovery point(s), {result.Packs} pack(s)" + (readData ? $", {result.BlobsVerified:N0} blobs read and verified." : "."), CancellationToken.None);
                return;
            }

            await jobs.LogAsync(jobId, JobLogLevel.Error, result.Problems.Select(p =>
                $"{p.ObjectName}: {p.Problem}" + (p.Snapshots.Count > 0 ? $" (recovery points {string.Join(", ", p.Snapshots.Select(s => s[..Math.Min(8, s.Length)]))})" : "") +
                (p.Files.Count > 0 ? $"; files: {string.Join(", ", p.Files.Take(20))}" : "")), CancellationToken.None);
            await jobs.FinishAsync(jobId, JobStatus.Failed,
                $"{result.Problems.Count} damaged or missing object(s); the log names the recovery points and files they touch. " +
                "For a vault with LRS copies, the next replica scrub heals copies that exist elsewhere; back the affected items up again so that new points do not depend on them.",
                CancellationToken.None);
        }
        catch (OperationCanceledException) when (registration.Token.IsCancellationRequested)
        {
            await jobs.FinishAsync(jobId, stopping.IsCancellationRequested ? JobStatus.Failed : JobStatus.Cancelled,
                stopping.IsCancellationRequested ? "The portal stopped while the check ran; run it again." : "Cancelled; nothing was changed.", CancellationToken.None);
        }
        catch (Exception e) when (BackupRunner.Explain(e, null) is { } message)
        {
            await jobs.FinishAsync(jobId, JobStatus.Failed, message, CancellationToken.None);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Check job {Job} failed unexpectedly", jobId);
            await jobs.FinishAsync(jobId, JobStatus.Failed,
                $"The check stopped on an unexpected error ({e.GetType().Name}: {e.Message}); the portal's log has the details.", CancellationToken.None);
        }
    }
}

/// <summary>A vault check, one at a time per vault across every portal instance.</summary>
[DisallowConcurrentExecution]
internal sealed class VaultCheckJob(CheckRunner runner) : IJob
{
    public const string Group = "check";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var data = context.MergedJobDataMap;
        if (Guid.TryParseExact(context.JobDetail.Key.Name, "N", out var vaultId)
            && data.TryGetString(ProtectionScheduler.JobIdKey, out var jobText) && Guid.TryParse(jobText, out var jobId))
            await runner.RunAsync(jobId, vaultId, data.TryGetString("readData", out var read) && read == "true", cancellationToken);
    }
}
