using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Features.Common;
using Portal.Data;
using Portal.Features.Regions;

namespace Portal.Features.Replication;

/// <summary>
/// Rewrites the LRS copies recorded in each region's repair journal (<see cref="DatabaseRepairJournal"/>): copies a
/// degraded write missed, damaged copies reads found. Every <see cref="ReplicationOptions.RepairInterval"/>, one portal
/// instance per region at a time; a copy that still cannot be written stays recorded with its error and attempt count.
/// </summary>
public sealed class RepairService(
    IDbContextFactory<PortalDbContext> dbFactory,
    RegionStores stores,
    RegionCatalog regions,
    IOptions<ReplicationOptions> options,
    TimeProvider clock,
    ILogger<RepairService> logger) : BackgroundService
{
    /// <summary>The advisory-lock namespace of a region's repairs and scrubs (replication and retention use their own).</summary>
    internal const int LockNamespace = 0x52505252; // "RPRR"

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Periodic.RunAsync(options.Value.RepairInterval, clock, logger, "LRS repair pass", RunOnceAsync, stoppingToken);

    /// <summary>One pass over every region; returns how many recorded copies are good now.</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var repaired = 0;
        foreach (var region in regions.All)
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            if (!await db.ReplicaRepairs.AnyAsync(r => r.Region == region.Name, ct))
                continue; // the usual case: nothing recorded, no lock taken
            await using var held = await RegionLock.TryTakeAsync(db, region.Name, ct);
            if (held is null)
                continue; // another instance repairs or scrubs this region now
            int count;
            try
            {
                count = await stores.Region(region.Name).RepairPendingAsync(ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // One region's trouble (its journal or storage) must not keep the other regions from their repairs.
                logger.LogWarning(e, "Region {Region}: the repair pass stopped; the next pass in {Interval} tries again", region.Name, options.Value.RepairInterval);
                continue;
            }

            var left = await db.ReplicaRepairs.CountAsync(r => r.Region == region.Name, ct);
            if (count > 0)
                logger.LogInformation("Region {Region}: repaired {Copies} replica copies", region.Name, count);
            if (left > 0)
                logger.LogWarning("Region {Region}: {Copies} replica copies still wait for repair; the next pass in {Interval} tries again", region.Name, left, options.Value.RepairInterval);
            repaired += count;
        }

        return repaired;
    }
}

/// <summary>
/// A region's PostgreSQL advisory lock, shared by the repair pass and the scrub so that only one of them heals a region's
/// copies at a time, across portal instances. It belongs to the context's connection, which stays open while held.
/// </summary>
internal sealed class RegionLock : IAsyncDisposable
{
    private readonly PortalDbContext db;
    private readonly int key;

    private RegionLock(PortalDbContext db, int key) => (this.db, this.key) = (db, key);

    public static async Task<RegionLock?> TryTakeAsync(PortalDbContext db, string region, CancellationToken ct)
    {
        await db.Database.OpenConnectionAsync(ct);
        var key = Key(region);
        return await db.Database.SqlQuery<bool>($"SELECT pg_try_advisory_lock({RepairService.LockNamespace}, {key}) AS \"Value\"").SingleAsync(ct)
            ? new RegionLock(db, key)
            : null;
    }

    /// <summary>Waits for the lock (a repair pass holds it for a short while only).</summary>
    public static async Task<RegionLock> TakeAsync(PortalDbContext db, string region, CancellationToken ct)
    {
        await db.Database.OpenConnectionAsync(ct);
        var key = Key(region);
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_lock({RepairService.LockNamespace}, {key})", ct);
        return new RegionLock(db, key);
    }

    public async ValueTask DisposeAsync() =>
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock({RepairService.LockNamespace}, {key})", CancellationToken.None);

    /// <summary>A stable key per region name (string.GetHashCode differs between processes).</summary>
    private static int Key(string region) =>
        BitConverter.ToInt32(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(region.ToLowerInvariant())));
}
