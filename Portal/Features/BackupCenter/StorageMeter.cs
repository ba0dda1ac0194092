using Portal.Features.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Features.Replication;
using Portal.Data;
using Portal.Features.Regions;
using Portal.Features.Reports;

namespace Portal.Features.BackupCenter;

/// <summary>
/// Measures what each vault's repository occupies in its region (and its paired region for GRS) by listing the
/// store, and keeps the day's last figure in <see cref="StorageUsage"/>. Listing is what Azure bills by, so it is the
/// truth; the recovery points' "added" bytes are only estimates.
/// </summary>
public sealed class StorageMeter(
    IDbContextFactory<PortalDbContext> dbFactory,
    RegionStores stores,
    RegionCatalog regions,
    IOptions<BackupCenterOptions> options,
    TimeProvider clock,
    ILogger<StorageMeter> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await stores.PrepareAsync(stoppingToken);
        await Periodic.RunAsync(options.Value.StorageInterval, clock, logger, "Measuring vault storage", MeasureAllAsync, stoppingToken);
    }

    /// <summary>Measures every vault in every region that holds it; a region that cannot be listed is logged and skipped this time.</summary>
    public async Task MeasureAllAsync(CancellationToken ct)
    {
        List<Guid> vaults;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            vaults = await db.Vaults.AsNoTracking().Select(v => v.Id).ToListAsync(ct);
        foreach (var vault in vaults)
            await MeasureAsync(vault, ct);
    }

    public async Task MeasureAsync(Guid vaultId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var vault = await db.Vaults.AsNoTracking().Where(v => v.Id == vaultId).Select(v => new { v.Region, v.Redundancy }).FirstOrDefaultAsync(ct);
        if (vault is null)
            return;
        List<string> where = [vault.Region];
        if (vault.Redundancy == Vaults.StorageRedundancy.GRS && regions.Find(vault.Region)?.PairedRegion is { } pair)
            where.Add(pair);

        foreach (var region in where)
        {
            long bytes = 0, objects = 0;
            try
            {
                await foreach (var o in stores.Vault(vaultId, region).ListAsync("", ct))
                {
                    bytes += o.Length;
                    objects++;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Cannot measure vault {Vault} in region {Region}: {Error}", vaultId, region, e.Message);
                continue;
            }

            var now = clock.GetUtcNow().UtcDateTime;
            var day = DateOnly.FromDateTime(now);
            // One row per vault, region and day: the day's last measurement wins (an upsert, safe across instances).
            await db.Database.ExecuteSqlInterpolatedAsync($"""
                INSERT INTO storage_usage ("VaultId", "Region", "Day", "Bytes", "Objects", "MeasuredAt")
                VALUES ({vaultId}, {region}, {day}, {bytes}, {objects}, {now})
                ON CONFLICT ("VaultId", "Region", "Day") DO UPDATE
                SET "Bytes" = EXCLUDED."Bytes", "Objects" = EXCLUDED."Objects", "MeasuredAt" = EXCLUDED."MeasuredAt"
                WHERE storage_usage."MeasuredAt" <= EXCLUDED."MeasuredAt"
                """, ct);
        }
    }
}
