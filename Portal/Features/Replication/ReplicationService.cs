using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Engine.Replication;
using Portal.Engine.Storage;

namespace Portal.Features.Replication;

/// <summary>
/// Copies every GRS vault's repository to its paired region, pass after pass. Each pass diffs the two regions'
/// listings (<see cref="RegionReplicator"/>), so a restart or an outage of the secondary loses nothing and
/// repeats nothing; an outage is recorded in <see cref="ReplicationStatus"/> and never affects backups.
/// </summary>
public sealed class ReplicationService(
    IDbContextFactory<PortalDbContext> dbFactory,
    RegionStores stores,
    RegionCatalog regions,
    ReplicationStatus status,
    IOptions<ReplicationOptions> options,
    JobService jobs,
    TimeProvider clock,
    ILogger<ReplicationService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await stores.PrepareAsync(stoppingToken);
        using var timer = new PeriodicTimer(options.Value.Interval, clock);
        do
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A failed pass (database down, say) must not stop the portal: the next tick tries again.
                logger.LogError(e, "Replication pass failed; retrying in {Interval}", options.Value.Interval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One pass over every GRS vault.</summary>
    public async Task RunOnceAsync(CancellationToken ct)
    {
        List<(Guid Id, string Name, string Region)> vaults;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            vaults = (await db.Vaults.AsNoTracking().Where(v => v.Redundancy == StorageRedundancy.GRS)
                .Select(v => new { v.Id, v.Name, v.Region }).ToListAsync(ct))
                .Select(v => (v.Id, v.Name, v.Region)).ToList();
        }

        foreach (var vault in vaults)
            await ReplicateVaultAsync(vault.Id, vault.Name, vault.Region, ct);
    }

    private async Task ReplicateVaultAsync(Guid id, string name, string region, CancellationToken ct)
    {
        var pair = regions.Find(region)?.PairedRegion;
        if (pair is null)
            return;
        var replicator = new RegionReplicator(stores.Vault(id, region), stores.Vault(id, pair), clock);
        var previous = status.For(id);
        var now = clock.GetUtcNow().UtcDateTime;
        Job? job = null;
        JobReporter<ReplicationProgress>? reporter = null;
        try
        {
            var lagBefore = await replicator.MeasureLagAsync(ct);
            if (!lagBefore.CaughtUp)
            {
                // A job only when there is something to copy: a pass that finds the pair caught up is not news.
                job = await jobs.StartAsync(JobKind.Replication, id, name, $"to {pair}", "portal", ct);
                var jobId = job.Id;
                reporter = new JobReporter<ReplicationProgress>(p => ReportAsync(jobId, p));
                await replicator.ReplicateAsync(new ThrottledProgress<ReplicationProgress>(reporter.Report, TimeSpan.FromSeconds(1), clock,
                    p => p.ObjectsDone == p.ObjectsTotal), ct);
                await reporter.FlushAsync();
            }

            var lag = await replicator.MeasureLagAsync(ct);
            status.Set(id, new VaultReplicationState(now, lag, null, now, lagBefore.Bytes));
            if (job is not null)
            {
                await jobs.FinishAsync(job.Id, JobStatus.Completed, null, ct);
                logger.LogInformation("Vault {Vault}: replicated {Objects} objects ({Bytes} bytes) to {Pair}", name, lagBefore.Objects, lagBefore.Bytes, pair);
            }
        }
        catch (StoreException e)
        {
            logger.LogWarning("Vault {Vault}: replication to {Pair} failed, will retry: {Reason}", name, pair, e.Message);
            status.Set(id, new VaultReplicationState(now, previous?.Lag, e.Message, previous?.LastSuccessAt, 0));
            if (reporter is not null)
                await reporter.FlushAsync();
            if (job is not null)
                await jobs.FinishAsync(job.Id, JobStatus.Failed,
                    $"Copying to {pair} failed: {e.Message} Backups are not affected; the next pass (every {options.Value.Interval}) continues where this one stopped.", ct);
        }
    }

    private async Task ReportAsync(Guid jobId, ReplicationProgress p)
    {
        try
        {
            await jobs.ReportAsync(jobId, "Copying", p.BytesDone, p.BytesTotal, p.ObjectsDone, p.ObjectsTotal);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogDebug(e, "Progress of job {Job} not recorded", jobId);
        }
    }
}
