using Microsoft.EntityFrameworkCore;
using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;
using Portal.Data;

namespace Portal.Features.Protection;

/// <summary>An integrity check of a vault; with <paramref name="ReadData"/>, every blob is read and verified.</summary>
public sealed record CheckInput(Guid VaultId, bool ReadData);

/// <summary>
/// An integrity check of a vault as a job: the engine verifies every snapshot's trees and that every blob they need is
/// indexed in an existing pack (and, with "read data", decrypts and verifies every blob). Problems are listed in the
/// job's log with the recovery points and files they touch. A check changes nothing, so a taken-over one starts again.
/// </summary>
public sealed class CheckJob(IDbContextFactory<PortalDbContext> dbFactory, VaultKeys keys) : JobHandler<CheckInput>
{
    public override string Name => "check";

    public override JobKind Kind => JobKind.Check;

    protected override string Noun => "check";

    /// <summary>One check of a vault at a time.</summary>
    public override string ConcurrencyKey(CheckInput input) => $"check/{input.VaultId:N}";

    public override async Task<JobOutcome> RunAsync(CheckInput input, JobRun run, CancellationToken ct)
    {
        Vaults.Vault vault;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            vault = await db.Vaults.AsNoTracking().FirstOrDefaultAsync(v => v.Id == input.VaultId, ct)
                    ?? throw new Common.PortalConflictException("The vault was deleted before its check ran.");
        using var engine = await keys.OpenAsync(vault.Id, vault.Name, vault.Region, ct);
        var result = await engine.CheckAsync(input.ReadData, run.Progress, ct);
        if (result.Notes.Count > 0)
            await run.LogAsync(JobLogLevel.Info, result.Notes);
        if (result.IsHealthy)
            return JobOutcome.Completed($"No problems: {result.Snapshots} recovery point(s), {result.Packs} pack(s)" +
                                       (input.ReadData ? $", {result.BlobsVerified:N0} blobs read and verified." : "."));

        await run.LogAsync(JobLogLevel.Error, await CheckFindings.DescribeAsync(dbFactory, vault.Id, result.Problems, ct));
        return JobOutcome.Failed(
            $"{result.Problems.Count} damaged or missing object(s); the log names the recovery points and files they touch. " + CheckFindings.NextStep);
    }

    protected override string Cancelled(CheckInput input) => "Cancelled; a check changes nothing.";

    protected override string? Explain(Exception e, CheckInput input) => e switch
    {
        Engine.RepositoryException => $"The check could not read the vault's backup data: {e.Message} Run the check with \"read all data\" to name what is damaged.",
        _ => VaultFailures.Explain(e, "a check changes nothing, so run it again once they are"),
    };
}
