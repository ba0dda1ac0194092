using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Engine;
using Portal.Engine.Operations;
using Portal.Features.Common;
using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;
using Portal.Features.Protection;

namespace Portal.Features.Drills;

/// <summary>What a drill starts from: the item, its latest recovery point, the drill settings in force, and where its last sample stopped.</summary>
internal sealed record DrillStart(BackupItem Item, RecoveryPoint Point, EffectiveDrillSettings? Settings, string? PreviousCursor)
{
    public string PointName => $"recovery point {Point.SnapshotId[..8]} of {Point.CreatedAt:yyyy-MM-dd HH:mm} UTC";

    /// <param name="snapshotId">The point drilled (a machine's drill completing), or null for the item's latest.</param>
    public static async Task<DrillStart> LoadAsync(IDbContextFactory<PortalDbContext> dbFactory, Guid itemId, CancellationToken ct, string? snapshotId = null)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var item = await db.BackupItems.AsNoTracking().Include(i => i.Vault).FirstOrDefaultAsync(i => i.Id == itemId, ct)
                   ?? throw new PortalConflictException("The backup item no longer exists.");
        var points = db.RecoveryPoints.AsNoTracking().Where(p => p.ItemId == item.Id);
        if (snapshotId is not null)
            points = points.Where(p => p.SnapshotId == snapshotId);
        var point = await points.OrderByDescending(p => p.CreatedAt).FirstOrDefaultAsync(ct)
                    ?? throw new PortalConflictException(snapshotId is null
                        ? $"{item.Name} has no recovery point to drill yet: back it up first."
                        : $"The recovery point {snapshotId[..Math.Min(8, snapshotId.Length)]} of {item.Name} was removed by the retention run during the drill.");
        var settings = await EffectiveDrillSettings.ForItemAsync(db, item.Id, ct);
        var previousCursor = await db.RecoveryDrills.AsNoTracking().Where(d => d.ItemId == item.Id && d.SampleCursor != null)
            .OrderByDescending(d => d.FinishedAt).Select(d => d.SampleCursor).FirstOrDefaultAsync(ct);
        return new DrillStart(item, point, settings, previousCursor);
    }
}

/// <summary>What one drill found, gathered as it runs, and the evidence it leaves (<see cref="RecoveryDrill"/>).</summary>
internal sealed class DrillRecord(DrillStart start, JobRun run, DateTime started)
{
    public IReadOnlyList<TreeEntry> Listing { get; set; } = [];
    public string Sample { get; set; } = "whole";
    public string? Cursor { get; set; }
    public bool Passed { get; set; }
    public long Files { get; set; }
    public long Bytes { get; set; }
    public TimeSpan RestoreTime { get; set; }
    public string Detail { get; set; } = "";

    /// <summary>A sample's: what a whole restore of the point would read from storage. Null for a whole drill.</summary>
    public RestoreSize? Whole { get; set; }

    /// <summary>What of the restore's time every restore pays once (<see cref="RestoreResult.Setup"/>): not scaled.</summary>
    public TimeSpan RestoreSetup { get; set; }

    /// <summary>What this drill's restore read from storage: objects and their stored bytes.</summary>
    public long StorageReads { get; set; }
    public long StorageBytes { get; set; }

    /// <summary>
    /// Chooses what the drill restores (<see cref="DrillSampler"/>, as the settings in force say) from the point's listing,
    /// and for a sample what a whole restore reads (from the listings and the index, no data): its time is scaled by it.
    /// The same start and repository give the same choice (a machine's drill chooses when the agent claims it, and again
    /// when it completes).
    /// </summary>
    public static async Task<(IReadOnlyList<TreeEntry> Listing, DrillSample Sample, string Words, RestoreSize? Whole)> ChooseAsync(
        BackupEngine engine, DrillStart start, CancellationToken ct)
    {
        var (kind, size) = start.Settings is null ? (DrillSampleKind.Whole, 0L) : (start.Settings.Settings.Sample, start.Settings.Settings.SampleSize);
        var listing = (await engine.ListTreeAsync(start.Point.SnapshotId, cancellationToken: ct)).Where(e => e.Type == EntryType.File).ToList();
        var sample = DrillSampler.Choose(start.Item.Id, listing, kind, size, start.PreviousCursor);
        var words = sample.Whole ? "whole" : $"{DrillSettings.DescribeSample(kind, size)} at random ({sample.Files.Count:N0} of {listing.Count:N0} files)";
        return (listing, sample, words, sample.Whole ? null : await engine.MeasureRestoreAsync(start.Point.SnapshotId, cancellationToken: ct));
    }

    /// <summary>As <see cref="ChooseAsync"/>, kept in this record and the sample logged.</summary>
    public async Task<DrillSample> PlanAsync(BackupEngine engine, CancellationToken ct)
    {
        (Listing, var sample, Sample, Whole) = await ChooseAsync(engine, start, ct);
        Cursor = sample.Cursor;
        if (!sample.Whole)
            await run.LogAsync(JobLogLevel.Info, [$"Sample: {Sample}, chosen at random and rotating so every file is drilled over time:",
                .. sample.Files.Take(1000).Select(f => $"drilled {f.Path}")]);
        return sample;
    }

    /// <summary>
    /// The outcome of a files drill from its restore (time, reads, errors) and the check of the restored files against
    /// the listing; records the evidence. <paramref name="where"/> names the machine that restored, or null for the portal host.
    /// </summary>
    public async Task<JobOutcome> ConcludeAsync(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider clock, RestoredFilesCheck check,
        IReadOnlyList<string> restoreErrors, bool restoreCompleted, TimeSpan time, long reads, long storedBytes, string? where = null, TimeSpan setup = default)
    {
        RestoreSetup = setup;
        var problems = restoreErrors.Concat(check.Problems).ToList();
        Passed = problems.Count == 0 && restoreCompleted;
        (Files, Bytes, RestoreTime, StorageReads, StorageBytes) = (check.Files, check.Bytes, time, reads, storedBytes);
        var estimate = EstimatedFullRestore();
        var what = Whole is null ? "whole" : $"in part ({Sample})";
        var on = where is null ? "" : $" on {where}";
        var rto = start.Settings?.Settings.RtoTarget is { } target
            ? estimate <= target ? $" (RTO target {Format.Duration(target)}: met)" : $" (RTO target {Format.Duration(target)}: missed)"
            : "";
        Detail = Passed
            ? $"Restored {start.PointName} {what}{on}: {Files:N0} file(s), {Format.Bytes(Bytes)} in {time.TotalSeconds:0.0} s; " +
              "every chunk and file fingerprint verified by the restore, every file's size and modification time against the point's listing. " +
              $"Full restore ({Listing.Count:N0} file(s), {Format.Bytes(Listing.Sum(e => e.Size))}) estimated at {Format.Duration(estimate)}{rto}" +
              (Whole is { } whole
                  ? $", scaled by reads from storage: the sample read {reads:N0} objects ({Format.Bytes(storedBytes)} stored), a full restore reads {whole.StorageReads:N0} ({Format.Bytes(whole.StorageBytes)})."
                  : " (measured: the whole point was restored).")
            : problems.Count == 0
                ? $"The {start.PointName} did not restore{on}: the restore did not complete."
                : $"The {start.PointName} did not restore intact{on}: {problems.Count:N0} problem(s), the first: {problems[0]}";
        if (problems.Count > 0)
            await run.LogAsync(JobLogLevel.Error, problems.Take(200).ToList());
        await SaveAsync(dbFactory, clock);
        return Passed ? JobOutcome.Completed(Detail)
            : JobOutcome.Failed(Detail + " The log lists each problem; run \"Check structure and read all data\" on the vault to find the damaged objects.");
    }

    /// <summary>Records a drill that could not restore at all, with its cause.</summary>
    public async Task<JobOutcome> FailedAsync(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider clock, string detail)
    {
        (Passed, Detail) = (false, detail);
        await SaveAsync(dbFactory, clock);
        return JobOutcome.Failed(detail);
    }

    /// <summary>
    /// The full restore's time (RTO measured). A whole drill's own time is the full restore's. A sample's is scaled
    /// by what the restore read from storage against what a whole restore reads (<see cref="RestoreSize.Extrapolate"/>),
    /// not by the files' bytes: a small file costs a read of its own, and what is stored compressed reads less
    /// than it writes (scaling by bytes estimated few-file samples 20 times too long).
    /// </summary>
    public TimeSpan EstimatedFullRestore() =>
        Whole is null || RestoreTime <= TimeSpan.Zero ? RestoreTime : Whole.Extrapolate(RestoreTime, StorageReads, StorageBytes, RestoreSetup);

    public async Task SaveAsync(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider clock)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        db.RecoveryDrills.Add(ToRow(clock.GetUtcNow().UtcDateTime));
        await db.SaveChangesAsync(CancellationToken.None);
    }

    private RecoveryDrill ToRow(DateTime finished) => new()
    {
        Id = Guid.CreateVersion7(), ItemId = start.Item.Id, VaultId = start.Item.VaultId, JobId = run.JobId, SnapshotId = start.Point.SnapshotId,
        PointCreatedAt = start.Point.CreatedAt, StartedAt = started, FinishedAt = finished, Result = Passed ? DrillResult.Passed : DrillResult.Failed,
        FilesVerified = Files, BytesVerified = Bytes, FilesInPoint = Listing.Count, BytesInPoint = Listing.Sum(e => e.Size),
        RestoreSeconds = RestoreTime.TotalSeconds, EstimatedFullRestoreSeconds = EstimatedFullRestore().TotalSeconds,
        Detail = Detail.Length > 4000 ? Detail[..4000] : Detail, RequestedBy = run.Job.StartedBy,
        Sample = Sample, SampleCursor = Passed ? Cursor : null, // a failed sample is drilled again next time
        ConfiguredBy = start.Settings is null ? "" : $"{start.Settings.ConfiguredBy} ({start.Settings.Source}, {start.Settings.ConfiguredAt:yyyy-MM-dd HH:mm} UTC)",
        RtoTargetSeconds = start.Settings?.Settings.RtoTarget?.TotalSeconds,
    };
}
