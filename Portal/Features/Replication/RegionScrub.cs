using Microsoft.EntityFrameworkCore;
using Portal.Engine.Replication;
using Portal.Data;
using Portal.Features.Regions;

namespace Portal.Features.Replication;

/// <summary>What a region's scrub found and did, as the portal records it.</summary>
public sealed record RegionScrubResult(string Region, DateTime StartedAt, DateTime FinishedAt, ScrubReport Report);

/// <summary>
/// The scrub of one region's replicas (<see cref="ReplicatedStore.ScrubAsync"/>): every object compared across the
/// replicas and each missing or damaged copy rewritten from a good one. Its findings replace the region's row in
/// <c>region_scrubs</c>, then the <see cref="IRegionScrubObserver"/>s hear of it (the alerts feature raises one alert per
/// vault with objects no replica holds, resolved by a later scrub that finds none). It holds the region's repair lock, so the repair pass and the scrub never heal the same copies at once.
/// No job bookkeeping here: <see cref="ScrubRunner"/> does that.
/// </summary>
public sealed class RegionScrub(
    IDbContextFactory<PortalDbContext> dbFactory, RegionStores stores, IEnumerable<IRegionScrubObserver> observers, TimeProvider clock, ILogger<RegionScrub> logger)
{
    public async Task<RegionScrubResult> RunAsync(string region, IProgress<ScrubProgress>? progress, CancellationToken ct)
    {
        var started = clock.GetUtcNow().UtcDateTime;
        ScrubReport report;
        await using (var lockDb = await dbFactory.CreateDbContextAsync(ct))
        await using (await RegionLock.TakeAsync(lockDb, region, ct))
            report = await stores.Region(region).ScrubAsync(progress, ct);
        var result = new RegionScrubResult(region, started, clock.GetUtcNow().UtcDateTime, report);

        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var row = await db.RegionScrubs.FirstOrDefaultAsync(s => s.Region == region, ct);
            if (row is null)
                db.RegionScrubs.Add(row = new RegionScrubRecord { Region = region });
            row.StartedAt = result.StartedAt;
            row.FinishedAt = result.FinishedAt;
            row.Objects = report.Objects;
            row.Issues = report.Issues.Count;
            row.Healed = report.Healed;
            row.Lost = [.. report.Lost];
            row.UnreachableReplicas = [.. report.UnreachableReplicas];
            await db.SaveChangesAsync(ct);
        }

        foreach (var observer in observers)
        {
            try
            {
                await observer.ScrubFinishedAsync(result, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "{Observer} failed on the scrub of region {Region}", observer.GetType().Name, region);
            }
        }

        return result;
    }

    /// <summary>The vault an object of a region's store belongs to (its name starts with <c>vaults/{id}/</c>).</summary>
    public static Guid? VaultOf(string objectName) =>
        objectName.StartsWith("vaults/", StringComparison.Ordinal) && objectName.Length > 40
        && Guid.TryParseExact(objectName.AsSpan(7, 32), "N", out var id) ? id : null;
}

/// <summary>Told of every finished region scrub (alerts observe it, so this feature does not depend on them); an observer's failure is logged, never the scrub's.</summary>
public interface IRegionScrubObserver
{
    Task ScrubFinishedAsync(RegionScrubResult result, CancellationToken ct);
}

