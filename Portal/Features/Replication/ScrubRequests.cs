using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Features.Audit;
using Portal.Features.Common;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;
using Portal.Features.Regions;
using Portal.Features.Vaults;

namespace Portal.Features.Replication;

/// <summary>
/// "Scrub now" from a vault's page (Backup.Contributor, Backup.Operator): a scrub job for each region that holds the
/// vault's data (its own, and the pair for GRS), queued with its audit row. A scrub only heals, so operators may ask for
/// one; a region whose scrub is already queued or running gets no second one.
/// </summary>
public sealed class ScrubRequests(
    IDbContextFactory<PortalDbContext> dbFactory, AuditLog audit, JobPipeline pipeline, RegionScrubJob scrubs, RegionCatalog regions)
{
    public Task<IReadOnlyList<Job>> ScrubVaultRegionsAsync(Guid vaultId, CancellationToken ct = default) =>
        audit.GuardAsync(AuditActions.VaultScrub, $"vault/{vaultId}", async user =>
        {
            Access.Require(user, "scrub a region's replicas", PortalRoles.Contributor, PortalRoles.Operator);
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var vault = await db.Vaults.AsNoTracking().FirstOrDefaultAsync(v => v.Id == vaultId, ct) ?? throw VaultService.Gone();
            string[] held = vault.Redundancy == StorageRedundancy.GRS && regions.Find(vault.Region)?.PairedRegion is { } paired ? [vault.Region, paired] : [vault.Region];
            var jobs = new List<Job>();
            foreach (var region in held)
            {
                var input = new ScrubInput(region);
                var key = scrubs.ConcurrencyKey(input);
                if (await db.Jobs.AnyAsync(j => j.ConcurrencyKey == key && (j.Status == JobStatus.Queued || j.Status == JobStatus.InProgress || j.Status == JobStatus.Cancelling), ct))
                    continue;
                jobs.Add(pipeline.Enqueue(db, scrubs, input, new JobTarget(null, "", null, $"region {region}"), user.DisplayName()));
            }

            if (jobs.Count == 0)
                throw new PortalConflictException($"A scrub of {string.Join(" and ", held)} is already queued or running. Watch it on the Jobs page.");
            audit.Append(db, user, AuditActions.VaultScrub, VaultService.VaultResource(vault.Name), $"scrub of {string.Join(", ", jobs.Select(j => j.Subject))}");
            await db.SaveChangesAsync(ct); // the jobs and their audit row together
            foreach (var job in jobs)
                await pipeline.QueuedAsync(job, ct);
            return (IReadOnlyList<Job>)jobs;
        });
}
