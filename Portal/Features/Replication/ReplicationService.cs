using Portal.Features.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Engine.Replication;
using Portal.Engine.Storage;
using Portal.Data;
using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;
using Portal.Features.Regions;
using Portal.Features.Vaults;

namespace Portal.Features.Replication;

/// <summary>
/// Copies every GRS vault's repository to its paired region, pass after pass. Each pass diffs the two regions'
/// listings (<see cref="RegionReplicator"/>), so a restart or an outage of the secondary loses nothing and
/// repeats nothing; an outage is recorded in <see cref="ReplicationStatus"/> and never affects backups. A pass with
/// something to copy (or remove) runs as a <see cref="ReplicationJob"/> of the job pipeline.
/// </summary>
public sealed class ReplicationService(
    IDbContextFactory<PortalDbContext> dbFactory,
    RegionStores stores,
    RegionCatalog regions,
    ReplicationStatus status,
    IOptions<ReplicationOptions> options,
    JobPipeline pipeline,
    ReplicationJob replication,
    TimeProvider clock,
    ILogger<ReplicationService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await stores.PrepareAsync(stoppingToken);
        await Periodic.RunAsync(options.Value.Interval, clock, logger, "Replication pass", RunOnceAsync, stoppingToken);
    }

    /// <summary>
    /// One pass: every GRS vault is copied to its pair; an LRS vault that still has a copy in its region's pair (it was
    /// GRS, and the change to LRS was confirmed) has that copy removed. One vault at a time across portal instances.
    /// </summary>
    public async Task RunOnceAsync(CancellationToken ct)
    {
        List<(Guid Id, string Name, string Region, StorageRedundancy Redundancy)> vaults;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            vaults = (await db.Vaults.AsNoTracking().Select(v => new { v.Id, v.Name, v.Region, v.Redundancy }).ToListAsync(ct))
                .Select(v => (v.Id, v.Name, v.Region, v.Redundancy)).ToList();
        }

        foreach (var vault in vaults.Where(v => regions.Find(v.Region)?.PairedRegion is not null))
        {
            // Replication and removal of the same vault never overlap (an LRS → GRS → LRS flip could otherwise leave a
            // recovery point in the pair whose data is being removed): a PostgreSQL advisory lock per vault, and the
            // redundancy is read again under it.
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            await db.Database.OpenConnectionAsync(ct);
            var lockKey = (int)BitConverter.ToInt64(vault.Id.ToByteArray(), 8);
            if (!await db.Database.SqlQuery<bool>($"SELECT pg_try_advisory_lock({LockNamespace}, {lockKey}) AS \"Value\"").SingleAsync(ct))
                continue; // another instance is on it
            try
            {
                var redundancy = await db.Vaults.AsNoTracking().Where(v => v.Id == vault.Id).Select(v => (StorageRedundancy?)v.Redundancy).FirstOrDefaultAsync(ct);
                if (redundancy == StorageRedundancy.GRS)
                    await ReplicateVaultAsync(vault.Id, vault.Name, vault.Region, ct);
                else if (redundancy == StorageRedundancy.LRS)
                    await RemoveSecondaryCopyAsync(vault.Id, vault.Name, vault.Region, ct);
            }
            finally
            {
                await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock({LockNamespace}, {lockKey})", CancellationToken.None);
            }
        }
    }

    /// <summary>The advisory-lock namespace of replication passes (retention uses its own).</summary>
    private const int LockNamespace = 0x5245504C; // "REPL"

    private async Task RemoveSecondaryCopyAsync(Guid id, string name, string region, CancellationToken ct)
    {
        var pair = regions.Find(region)!.PairedRegion!;
        var secondary = stores.Vault(id, pair);
        try
        {
            await using (var listing = secondary.ListAsync("", ct).GetAsyncEnumerator(ct))
                if (!await listing.MoveNextAsync())
                    return; // nothing there: the usual case for an LRS vault
            if (await stores.Vault(id, region).StatAsync("config", ct) is null)
            {
                // Never remove what may be the only readable copy (the primary region lost or unreachable).
                logger.LogWarning("Vault {Vault} is LRS but its primary region {Region} shows no repository: its copy in {Pair} is kept", name, region, pair);
                return;
            }
        }
        catch (StoreException e)
        {
            logger.LogWarning("Vault {Vault}: looking at its copy in {Pair} failed, will retry: {Reason}", name, pair, e.Message);
            return;
        }

        status.Remove(id);
        await pipeline.RunHereAsync(replication, new ReplicationInput(id, region, pair, RemoveCopy: true), new JobTarget(id, name, null, $"remove copy in {pair}"), "portal", ct);
    }

    private async Task ReplicateVaultAsync(Guid id, string name, string region, CancellationToken ct)
    {
        var pair = regions.Find(region)?.PairedRegion;
        if (pair is null)
            return;
        var replicator = new RegionReplicator(stores.Vault(id, region), stores.Vault(id, pair), clock);
        var now = clock.GetUtcNow().UtcDateTime;
        try
        {
            var lagBefore = await replicator.MeasureLagAsync(ct);
            if (lagBefore.CaughtUp)
            {
                // A job only when there is something to copy: a pass that finds the pair caught up is not news.
                status.Set(id, new VaultReplicationState(now, lagBefore, null, now, 0));
                return;
            }
        }
        catch (StoreException e)
        {
            logger.LogWarning("Vault {Vault}: measuring its replication to {Pair} failed, will retry: {Reason}", name, pair, e.Message);
            var previous = status.For(id);
            status.Set(id, new VaultReplicationState(now, previous?.Lag, e.Message, previous?.LastSuccessAt, 0));
            return;
        }

        await pipeline.RunHereAsync(replication, new ReplicationInput(id, region, pair, RemoveCopy: false), new JobTarget(id, name, null, $"to {pair}"), "portal", ct);
    }
}
