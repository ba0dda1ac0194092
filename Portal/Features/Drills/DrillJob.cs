using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Data;
using Portal.Engine.Operations;
using Portal.Features.Common;
using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;
using Portal.Features.Protection;
using Portal.Features.Workloads;
using EngineStatus = Portal.Engine.Progress.OperationStatus;

namespace Portal.Features.Drills;

/// <summary>A restore drill of an item's latest recovery point.</summary>
public sealed record DrillInput(Guid ItemId);

/// <summary>
/// A restore drill on the portal host as a job. A files-and-folders item: restores the latest recovery point, whole or a
/// sample (<see cref="DrillSampler"/>, as the drill schedule in force says), into a scratch folder under
/// <see cref="DrillOptions.DrillRoot"/> (the engine verifies every chunk's keyed hash and every file's fingerprint as it
/// writes), checks every restored file's size and modification time against the point's listing, deletes the scratch
/// copy whatever happened, and records the evidence with the restore's measured time (<see cref="RecoveryDrill"/>).
/// A PostgreSQL item: <see cref="DatabaseDrill"/>. A machine's items are drilled by their agent (<see cref="MachineDrillJob"/>).
/// A drill writes nothing the item's owner sees, so a taken-over drill simply starts again.
/// </summary>
public sealed class DrillJob(IDbContextFactory<PortalDbContext> dbFactory, VaultKeys keys, DatabaseDrill databases, IOptions<DrillOptions> options, TimeProvider clock)
    : JobHandler<DrillInput>
{
    public override string Name => "drill";

    public override JobKind Kind => JobKind.Drill;

    protected override string Noun => "restore drill";

    public override string ConcurrencyKey(DrillInput input) => $"drill/{input.ItemId:N}";

    public override async Task<JobOutcome> RunAsync(DrillInput input, JobRun run, CancellationToken ct)
    {
        var start = await DrillStart.LoadAsync(dbFactory, input.ItemId, ct);
        if (start.Item.Kind == BackupItemKinds.PostgreSql)
            return await RunDatabaseAsync(start, run, ct);
        var vault = start.Item.Vault!;
        var record = new DrillRecord(start, run, clock.GetUtcNow().UtcDateTime);
        var scratch = Path.Combine(options.Value.DrillRoot, $"drill-{run.JobId:N}");
        CreatePrivate(options.Value.DrillRoot);
        CreatePrivate(scratch); // restored data is readable by the portal's user only, whatever the drill root's mode
        try
        {
            using var engine = await keys.OpenAsync(vault.Id, vault.Name, vault.Region, ct);
            var sample = await record.PlanAsync(engine, ct);
            var watch = Stopwatch.StartNew();
            // Timed until the data is on disk: a whole restore too large for the page cache pays the disk's write rate, and so does the sample.
            var request = new RestoreRequest(start.Point.SnapshotId, scratch) { Include = sample.Whole ? [] : [.. sample.Files.Select(f => f.Path)], Flush = true };
            var restore = await engine.RestoreAsync(request, run.Progress, ct);
            watch.Stop();
            return await record.ConcludeAsync(dbFactory, clock, RestoredFilesCheck.Compare(scratch, sample.Files), restore.Errors,
                restore.Status == EngineStatus.Completed, watch.Elapsed, restore.StorageReads, restore.StorageBytesRead, setup: restore.Setup);
        }
        catch (Exception e) when (e is not OperationCanceledException && VaultFailures.Explain(e, "nothing was changed") is { } why)
        {
            return await record.FailedAsync(dbFactory, clock, $"The {start.PointName} did not restore: {why}");
        }
        finally
        {
            try { Directory.Delete(scratch, recursive: true); }
            catch (DirectoryNotFoundException) { }
        }
    }

    /// <summary>
    /// A database item's drill: its latest point restored into a throwaway database on the item's server, the item's
    /// check query run there (read-only, within the timeout) and its answer recorded, the database dropped whatever happened.
    /// </summary>
    private async Task<JobOutcome> RunDatabaseAsync(DrillStart start, JobRun run, CancellationToken ct)
    {
        var (item, point) = (start.Item, start.Point);
        var record = new DrillRecord(start, run, clock.GetUtcNow().UtcDateTime) { Sample = "whole database" };
        try
        {
            using var engine = await keys.OpenAsync(item.VaultId, item.Vault!.Name, item.Vault.Region, ct);
            var found = await databases.RunAsync(item, engine, point.SnapshotId, item.DrillCheckQuery, TimeSpan.FromSeconds(options.Value.CheckQueryTimeoutSeconds), run, ct);
            record.Listing = [new TreeEntry(DatabaseBackup.DumpFileName, EntryType.File, found.DumpBytes, 0, point.CreatedAt, null)];
            (record.Passed, record.Files, record.Bytes, record.RestoreTime) = (true, 1, found.DumpBytes, found.RestoreTime);
            var rto = start.Settings?.Settings.RtoTarget is { } target
                ? found.RestoreTime <= target ? $" (RTO target {Format.Duration(target)}: met)" : $" (RTO target {Format.Duration(target)}: missed)"
                : "";
            record.Detail = $"Restored {start.PointName} into the throwaway database {found.Database} ({Format.Bytes(found.DumpBytes)} dump, every chunk verified) " +
                            $"in {found.RestoreTime.TotalSeconds:0.0} s{rto}, then dropped it. " +
                            (found.CheckAnswer is null ? "No check query is set." : $"Check query \"{Shorten(item.DrillCheckQuery!)}\" answered: {found.CheckAnswer}.");
            await record.SaveAsync(dbFactory, clock);
            return JobOutcome.Completed(record.Detail);
        }
        catch (Exception e) when (e is not OperationCanceledException && VaultFailures.Explain(e, "nothing was changed") is { } why)
        {
            return await record.FailedAsync(dbFactory, clock, $"The {start.PointName} did not restore into a throwaway database: {why}");
        }
    }

    private static string Shorten(string query) => query.Length > 200 ? query[..200] + "…" : query;

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
