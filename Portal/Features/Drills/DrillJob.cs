using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Data;
using Portal.Engine.Operations;
using Portal.Features.Common;
using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;
using Portal.Features.Protection;
using EngineStatus = Portal.Engine.Progress.OperationStatus;
using JobStatus = Portal.Features.Jobs.JobStatus;

namespace Portal.Features.Drills;

/// <summary>A restore drill of an item's latest recovery point.</summary>
public sealed record DrillInput(Guid ItemId);

/// <summary>
/// A restore drill as a job: restores the item's latest recovery point whole into a scratch folder under
/// <see cref="DrillOptions.DrillRoot"/> (the engine verifies every chunk's keyed hash and every file's fingerprint as it
/// writes), checks every restored file's size and modification time against the point's listing, deletes the scratch
/// copy whatever happened, and records the evidence with the restore's measured time (<see cref="RecoveryDrill"/>).
/// A drill writes nothing the item's owner sees, so a taken-over drill simply starts again.
/// </summary>
public sealed class DrillJob(IDbContextFactory<PortalDbContext> dbFactory, VaultKeys keys, IOptions<DrillOptions> options, TimeProvider clock)
    : JobHandler<DrillInput>
{
    public override string Name => "drill";

    public override JobKind Kind => JobKind.Drill;

    protected override string Noun => "restore drill";

    public override string ConcurrencyKey(DrillInput input) => $"drill/{input.ItemId:N}";

    public override async Task<JobOutcome> RunAsync(DrillInput input, JobRun run, CancellationToken ct)
    {
        BackupItem item;
        RecoveryPoint point;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            item = await db.BackupItems.AsNoTracking().Include(i => i.Vault).FirstOrDefaultAsync(i => i.Id == input.ItemId, ct)
                   ?? throw new PortalConflictException("The backup item no longer exists.");
            point = await db.RecoveryPoints.AsNoTracking().Where(p => p.ItemId == item.Id).OrderByDescending(p => p.CreatedAt).FirstOrDefaultAsync(ct)
                    ?? throw new PortalConflictException($"{item.Name} has no recovery point to drill yet: back it up first.");
        }

        var vault = item.Vault!;
        var started = clock.GetUtcNow().UtcDateTime;
        var scratch = Path.Combine(options.Value.DrillRoot, $"drill-{run.JobId:N}");
        CreatePrivate(options.Value.DrillRoot);
        CreatePrivate(scratch); // restored data is readable by the portal's user only, whatever the drill root's mode
        try
        {
            using var engine = await keys.OpenAsync(vault.Id, vault.Name, vault.Region, ct);
            var listing = (await engine.ListTreeAsync(point.SnapshotId, cancellationToken: ct)).Where(e => e.Type == EntryType.File).ToList();
            var watch = Stopwatch.StartNew();
            var restore = await engine.RestoreAsync(new RestoreRequest(point.SnapshotId, scratch), run.Progress, ct);
            watch.Stop();

            var problems = restore.Errors.ToList();
            long files = 0, bytes = 0;
            foreach (var entry in listing)
            {
                var restored = new FileInfo(Path.Combine(scratch, entry.Path));
                if (!restored.Exists)
                    problems.Add($"{entry.Path}: not restored.");
                else if (restored.Length != entry.Size)
                    problems.Add($"{entry.Path}: {restored.Length:N0} bytes restored, the recovery point lists {entry.Size:N0}.");
                else if (restored.LastWriteTimeUtc != entry.ModifiedUtc.UtcDateTime)
                    problems.Add($"{entry.Path}: modified {restored.LastWriteTimeUtc:yyyy-MM-dd HH:mm:ss.fff} restored, the recovery point lists {entry.ModifiedUtc.UtcDateTime:yyyy-MM-dd HH:mm:ss.fff}.");
                else
                {
                    files++;
                    bytes += entry.Size;
                }
            }

            var passed = problems.Count == 0 && restore.Status == EngineStatus.Completed;
            var detail = passed
                ? $"Restored recovery point {point.SnapshotId[..8]} of {point.CreatedAt:yyyy-MM-dd HH:mm} UTC whole: {files:N0} file(s), {Format.Bytes(bytes)} in {watch.Elapsed.TotalSeconds:0.0} s; " +
                  "every chunk and file fingerprint verified by the restore, every file's size and modification time against the point's listing."
                : $"Recovery point {point.SnapshotId[..8]} of {point.CreatedAt:yyyy-MM-dd HH:mm} UTC did not restore intact: {problems.Count:N0} problem(s), the first: {problems[0]}";
            if (problems.Count > 0)
                await run.LogAsync(JobLogLevel.Error, problems.Take(200).ToList());
            await RecordAsync(item, point, run, started, passed, files, bytes, listing, watch.Elapsed, detail);
            return passed ? JobOutcome.Completed(detail) : JobOutcome.Failed(detail + " The log lists each problem; run \"Check structure and read all data\" on the vault to find the damaged objects.");
        }
        catch (Exception e) when (e is not OperationCanceledException && VaultFailures.Explain(e, "nothing was changed") is { } why)
        {
            var detail = $"Recovery point {point.SnapshotId[..8]} of {point.CreatedAt:yyyy-MM-dd HH:mm} UTC did not restore: {why}";
            await RecordAsync(item, point, run, started, passed: false, 0, 0, [], TimeSpan.Zero, detail);
            return JobOutcome.Failed(detail);
        }
        finally
        {
            try { Directory.Delete(scratch, recursive: true); }
            catch (DirectoryNotFoundException) { }
        }
    }

    private async Task RecordAsync(BackupItem item, RecoveryPoint point, JobRun run, DateTime started, bool passed, long files, long bytes,
        IReadOnlyList<TreeEntry> listing, TimeSpan restoreTime, string detail)
    {
        var totalBytes = listing.Sum(e => e.Size);
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        db.RecoveryDrills.Add(new RecoveryDrill
        {
            Id = Guid.CreateVersion7(), ItemId = item.Id, VaultId = item.VaultId, JobId = run.JobId, SnapshotId = point.SnapshotId, PointCreatedAt = point.CreatedAt,
            StartedAt = started, FinishedAt = clock.GetUtcNow().UtcDateTime, Result = passed ? DrillResult.Passed : DrillResult.Failed,
            FilesVerified = files, BytesVerified = bytes, FilesInPoint = listing.Count, BytesInPoint = totalBytes,
            RestoreSeconds = restoreTime.TotalSeconds,
            // A whole point was restored: the measured time is the full restore's. (Sampled drills will scale by bytes.)
            EstimatedFullRestoreSeconds = restoreTime.TotalSeconds,
            Detail = detail.Length > 4000 ? detail[..4000] : detail, RequestedBy = run.Job.StartedBy,
        });
        await db.SaveChangesAsync(CancellationToken.None);
    }

    private static void CreatePrivate(string folder)
    {
        if (OperatingSystem.IsWindows())
            Directory.CreateDirectory(folder);
        else
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    protected override string Cancelled(DrillInput input) => "Cancelled. The scratch copy was deleted; the item's data was not touched.";

    protected override string? Explain(Exception e, DrillInput input) => VaultFailures.Explain(e, "nothing was changed");
}
