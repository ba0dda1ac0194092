using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Engine.Agents;
using Portal.Engine.Operations;
using Portal.Features.Common;
using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;
using Portal.Features.Protection;
using JobStatus = Portal.Features.Jobs.JobStatus;

namespace Portal.Features.Drills;

/// <summary>
/// A restore drill of a machine's item, run by the machine's agent (as a machine restore is): the portal chooses the
/// sample from the point's listing (the machine's repository opened with its escrowed key) when the agent claims the job;
/// the agent restores it into its own <c>Restore:DrillRoot</c>, checks every file against the listing, deletes the copy
/// and reports; the portal records the evidence, the RTO scaled as on the host (<see cref="DrillRecord"/>).
/// </summary>
public sealed class MachineDrillJob(IDbContextFactory<PortalDbContext> dbFactory, ItemRepositories repositories, IMachines machines, TimeProvider clock)
    : RemoteJobHandler<DrillInput, MachineDrillInput, MachineDrillResult>
{
    public override string Name => AgentOperations.Drill;

    public override JobKind Kind => JobKind.Drill;

    protected override string Noun => "restore drill";

    public override string ConcurrencyKey(DrillInput input) => $"drill/{input.ItemId:N}";

    protected override async Task<MachineDrillInput> ForExecutorAsync(DrillInput input, JobLease lease, CancellationToken ct)
    {
        var start = await DrillStart.LoadAsync(dbFactory, input.ItemId, ct);
        if (start.Item.MachineId is null)
            throw new PortalConflictException("The item of this drill is no longer on a machine.");
        using var engine = await OpenAsync(start, ct);
        var (_, sample, _, _) = await DrillRecord.ChooseAsync(engine, start, ct);
        return new MachineDrillInput(start.Point.SnapshotId, sample.Whole ? [] : [.. sample.Files.Select(f => f.Path)]);
    }

    protected override async Task<JobOutcome> CompleteAsync(DrillInput input, RemoteOutcome outcome, MachineDrillResult? result, JobRun run, CancellationToken ct)
    {
        if (outcome.Status == JobStatus.Cancelled)
            return new JobOutcome(JobStatus.Cancelled, Cancelled(input));
        var start = await DrillStart.LoadAsync(dbFactory, input.ItemId, ct, result?.SnapshotId);
        var record = new DrillRecord(start, run, run.Job.StartedAt ?? clock.GetUtcNow().UtcDateTime);
        var machine = start.Item.MachineId is { } id ? (await machines.FindAsync(id, ct))?.Name : null;
        if (result is null)
            return await record.FailedAsync(dbFactory, clock, $"The {start.PointName} did not restore on {machine ?? "the machine"}: " +
                                                              (outcome.Message ?? "the machine reported a failure without words."));
        using (var engine = await OpenAsync(start, ct))
            await record.PlanAsync(engine, ct);
        return await record.ConcludeAsync(dbFactory, clock, new RestoredFilesCheck(result.Files, result.Bytes, result.Problems), [], result.Completed,
            TimeSpan.FromSeconds(result.RestoreSeconds), result.StorageReads, result.StorageBytesRead, $"{machine ?? "the machine"} (in {result.Scratch}, deleted again)",
            TimeSpan.FromSeconds(result.SetupSeconds));
    }

    private Task<Portal.Engine.BackupEngine> OpenAsync(DrillStart start, CancellationToken ct) =>
        repositories.OpenAsync(start.Item.VaultId, start.Item.Vault!.Name, start.Item.Vault.Region, start.Item.MachineId, ct);

    protected override string Cancelled(DrillInput input) => "Cancelled. The machine deleted the scratch copy; the item's data was not touched.";

    protected override string Interrupted(DrillInput input) =>
        "The drill did not finish: check that the agent runs on the machine, then run the drill again. The agent deletes its scratch copy when a drill ends.";

    protected override string? Explain(Exception e, DrillInput input) => VaultFailures.Explain(e, "nothing was changed");
}
