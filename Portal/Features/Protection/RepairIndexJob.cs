using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;

namespace Portal.Features.Protection;

/// <summary>Rebuild the index of every repository of a vault from its packs.</summary>
public sealed record RepairIndexInput(Guid VaultId);

/// <summary>
/// "Repair the index" as a job (issue 23; the CLI's <c>repair index</c>): for the vault's own repository and each machine's,
/// the engine reads every pack's header, writes a new index and only then removes the old index objects. It heals stale
/// entries (packs that are gone, index objects that reappeared from an old copy), damaged index objects and unindexed
/// packs. It never deletes or rewrites a pack, and waits (fails with the reason) while a backup holds the repository.
/// Recovery points keep their ids, so the catalog needs nothing.
/// </summary>
public sealed class RepairIndexJob(IDbContextFactory<PortalDbContext> dbFactory, VaultRepositories repositories) : JobHandler<RepairIndexInput>
{
    public override string Name => "repair-index";

    public override JobKind Kind => JobKind.Repair;

    protected override string Noun => "index repair";

    /// <summary>One repair or check of a vault at a time.</summary>
    public override string ConcurrencyKey(RepairIndexInput input) => $"check/{input.VaultId:N}";

    public override async Task<JobOutcome> RunAsync(RepairIndexInput input, JobRun run, CancellationToken ct)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            if (!await db.Vaults.AnyAsync(v => v.Id == input.VaultId, ct))
                throw new Common.PortalConflictException("The vault was deleted before its index repair ran.");
        var lines = new List<string>();
        var unreadable = new List<string>();
        var failed = new List<string>();
        foreach (var (name, engine, unavailable) in await repositories.OpenAllAsync(input.VaultId, ct))
        {
            if (engine is null)
            {
                failed.Add($"{name}: not reached ({unavailable}).");
                continue;
            }

            using (engine)
            {
                try
                {
                    var r = await engine.RepairIndexAsync(ct);
                    lines.Add($"{name}: {r.PacksIndexed:N0} pack(s) and {r.BlobsIndexed:N0} chunk(s) and listings indexed; {r.OldIndexesRemoved:N0} old index object(s) removed.");
                    unreadable.AddRange(r.Unreadable.Select(u => $"{name}: {u}"));
                }
                catch (Engine.RepositoryLockedException e)
                {
                    failed.Add($"{name}: {e.Message} Repair it once that operation has finished (or break a stale lock).");
                }
            }
        }

        if (lines.Count > 0)
            await run.LogAsync(JobLogLevel.Info, lines);
        if (unreadable.Count > 0)
            await run.LogAsync(JobLogLevel.Warning, unreadable);
        if (failed.Count > 0)
            await run.LogAsync(JobLogLevel.Error, failed);
        var summary = lines.Count == 0 ? "No repository of this vault was repaired." : string.Join(" ", lines);
        if (failed.Count > 0)
            return JobOutcome.Failed($"{summary} {string.Join(" ", failed)}");
        return unreadable.Count > 0
            ? new JobOutcome(JobStatus.CompletedWithWarnings, $"{summary} {unreadable.Count} pack(s) could not be read and were left in place, not indexed: run \"Check structure and read all data\" to see which recovery points need them.")
            : JobOutcome.Completed(summary);
    }

    protected override string Cancelled(RepairIndexInput input) =>
        "Cancelled. A repository whose new index was written keeps it; the others keep their old index (nothing is lost either way).";

    protected override string? Explain(Exception e, RepairIndexInput input) => VaultFailures.Explain(e, "the old index stays until a repair finishes");
}
