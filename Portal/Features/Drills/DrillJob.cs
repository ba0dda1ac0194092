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
/// A restore drill as a job: restores the item's latest recovery point, whole or a sample (<see cref="DrillSampler"/>,
/// as the drill schedule in force says), into a scratch folder under
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
        EffectiveDrillSettings? settings;
        string? previousCursor;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            item = await db.BackupItems.AsNoTracking().Include(i => i.Vault).FirstOrDefaultAsync(i => i.Id == input.ItemId, ct)
                   ?? throw new PortalConflictException("The backup item no longer exists.");
            point = await db.RecoveryPoints.AsNoTracking().Where(p => p.ItemId == item.Id).OrderByDescending(p => p.CreatedAt).FirstOrDefaultAsync(ct)
                    ?? throw new PortalConflictException($"{item.Name} has no recovery point to drill yet: back it up first.");
            settings = await EffectiveDrillSettings.ForItemAsync(db, item.Id, ct);
            previousCursor = await db.RecoveryDrills.AsNoTracking().Where(d => d.ItemId == item.Id && d.SampleCursor != null)
                .OrderByDescending(d => d.FinishedAt).Select(d => d.SampleCursor).FirstOrDefaultAsync(ct);
        }

        var vault = item.Vault!;
        var (sampleKind, sampleSize) = settings is null ? (DrillSampleKind.Whole, 0L) : (settings.Settings.Sample, settings.Settings.SampleSize);
        var record = new DrillRecord(item, point, run, clock.GetUtcNow().UtcDateTime, settings);
        var scratch = Path.Combine(options.Value.DrillRoot, $"drill-{run.JobId:N}");
        CreatePrivate(options.Value.DrillRoot);
        CreatePrivate(scratch); // restored data is readable by the portal's user only, whatever the drill root's mode
        var pointName = $"recovery point {point.SnapshotId[..8]} of {point.CreatedAt:yyyy-MM-dd HH:mm} UTC";
        try
        {
            using var engine = await keys.OpenAsync(vault.Id, vault.Name, vault.Region, ct);
            var listing = (await engine.ListTreeAsync(point.SnapshotId, cancellationToken: ct)).Where(e => e.Type == EntryType.File).ToList();
            var sample = DrillSampler.Choose(item.Id, listing, sampleKind, sampleSize, previousCursor);
            record.Listing = listing;
            record.Sample = sample.Whole ? "whole" : $"{DrillSettings.DescribeSample(sampleKind, sampleSize)} at random ({sample.Files.Count:N0} of {listing.Count:N0} files)";
            record.Cursor = sample.Cursor;
            if (!sample.Whole)
                await run.LogAsync(JobLogLevel.Info, [$"Sample: {record.Sample}, chosen at random and rotating so every file is drilled over time:",
                    .. sample.Files.Take(1000).Select(f => $"drilled {f.Path}")]);
            var watch = Stopwatch.StartNew();
            var request = new RestoreRequest(point.SnapshotId, scratch) { Include = sample.Whole ? [] : [.. sample.Files.Select(f => f.Path)] };
            var restore = await engine.RestoreAsync(request, run.Progress, ct);
            watch.Stop();

            var problems = restore.Errors.ToList();
            long files = 0, bytes = 0;
            foreach (var entry in sample.Files)
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
            record.Passed = passed;
            (record.Files, record.Bytes, record.RestoreTime) = (files, bytes, watch.Elapsed);
            var estimate = record.EstimatedFullRestore();
            var what = sample.Whole ? "whole" : $"in part ({record.Sample})";
            var rto = settings?.Settings.RtoTarget is { } target
                ? estimate <= target ? $" (RTO target {Format.Duration(target)}: met)" : $" (RTO target {Format.Duration(target)}: missed)"
                : "";
            var detail = passed
                ? $"Restored {pointName} {what}: {files:N0} file(s), {Format.Bytes(bytes)} in {watch.Elapsed.TotalSeconds:0.0} s; " +
                  "every chunk and file fingerprint verified by the restore, every file's size and modification time against the point's listing. " +
                  $"Full restore ({listing.Count:N0} file(s), {Format.Bytes(listing.Sum(e => e.Size))}) estimated at {Format.Duration(estimate)}{rto}."
                : $"The {pointName} did not restore intact: {problems.Count:N0} problem(s), the first: {problems[0]}";
            if (problems.Count > 0)
                await run.LogAsync(JobLogLevel.Error, problems.Take(200).ToList());
            record.Detail = detail;
            await RecordAsync(record);
            return passed ? JobOutcome.Completed(detail) : JobOutcome.Failed(detail + " The log lists each problem; run \"Check structure and read all data\" on the vault to find the damaged objects.");
        }
        catch (Exception e) when (e is not OperationCanceledException && VaultFailures.Explain(e, "nothing was changed") is { } why)
        {
            record.Detail = $"The {pointName} did not restore: {why}";
            record.Passed = false;
            await RecordAsync(record);
            return JobOutcome.Failed(record.Detail);
        }
        finally
        {
            try { Directory.Delete(scratch, recursive: true); }
            catch (DirectoryNotFoundException) { }
        }
    }

    /// <summary>What one drill found, gathered as it runs.</summary>
    private sealed class DrillRecord(BackupItem item, RecoveryPoint point, JobRun run, DateTime started, EffectiveDrillSettings? settings)
    {
        public IReadOnlyList<TreeEntry> Listing { get; set; } = [];
        public string Sample { get; set; } = "whole";
        public string? Cursor { get; set; }
        public bool Passed { get; set; }
        public long Files { get; set; }
        public long Bytes { get; set; }
        public TimeSpan RestoreTime { get; set; }
        public string Detail { get; set; } = "";

        /// <summary>
        /// The full restore's time, extrapolated from the bytes this drill restored per second (from the files per
        /// second when the sample held no bytes): RTO measured. A whole drill's own time is the full restore's.
        /// </summary>
        public TimeSpan EstimatedFullRestore()
        {
            var totalBytes = Listing.Sum(e => e.Size);
            if (Bytes >= totalBytes || RestoreTime <= TimeSpan.Zero)
                return RestoreTime;
            return Bytes > 0 ? RestoreTime * ((double)totalBytes / Bytes)
                : Files > 0 ? RestoreTime * ((double)Listing.Count / Files)
                : RestoreTime;
        }

        public RecoveryDrill ToRow(DateTime finished) => new()
        {
            Id = Guid.CreateVersion7(), ItemId = item.Id, VaultId = item.VaultId, JobId = run.JobId, SnapshotId = point.SnapshotId, PointCreatedAt = point.CreatedAt,
            StartedAt = started, FinishedAt = finished, Result = Passed ? DrillResult.Passed : DrillResult.Failed,
            FilesVerified = Files, BytesVerified = Bytes, FilesInPoint = Listing.Count, BytesInPoint = Listing.Sum(e => e.Size),
            RestoreSeconds = RestoreTime.TotalSeconds, EstimatedFullRestoreSeconds = EstimatedFullRestore().TotalSeconds,
            Detail = Detail.Length > 4000 ? Detail[..4000] : Detail, RequestedBy = run.Job.StartedBy,
            Sample = Sample, SampleCursor = Passed ? Cursor : null, // a failed sample is drilled again next time
            ConfiguredBy = settings is null ? "" : $"{settings.ConfiguredBy} ({settings.Source}, {settings.ConfiguredAt:yyyy-MM-dd HH:mm} UTC)",
            RtoTargetSeconds = settings?.Settings.RtoTarget?.TotalSeconds,
        };
    }

    private async Task RecordAsync(DrillRecord record)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        db.RecoveryDrills.Add(record.ToRow(clock.GetUtcNow().UtcDateTime));
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
