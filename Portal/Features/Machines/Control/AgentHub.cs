using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Data;
using Portal.Engine.Agents;
using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;

namespace Portal.Features.Machines;

/// <summary>
/// The agents' control connection (<see cref="AgentRoutes.Hub"/>): each machine connects out with its machine token and
/// becomes the executor of its own jobs through the same <see cref="IJobChannel"/> calls a portal instance makes, fenced
/// by the lease (a machine can only report on, log to and finish jobs it claimed itself). Everything a machine sends is
/// bounded and checked: it may be hostile.
/// </summary>
[Authorize(Policy = MachinePolicies.Agent)]
public sealed class AgentHub(
    AgentConnections connections,
    MachinePresence presence,
    JobService jobs,
    JobPipeline pipeline,
    IOptions<JobsOptions> jobOptions,
    IDbContextFactory<PortalDbContext> dbFactory,
    ILogger<AgentHub> logger) : Hub
{
    private const int MaxLines = 500, MaxText = 4000, MaxResult = 256 * 1024;

    private Guid MachineId => Guid.Parse(Context.User!.FindFirstValue(ClaimTypes.NameIdentifier)!);

    private string Executor => JobExecutors.Machine(MachineId);

    public override async Task OnConnectedAsync()
    {
        connections.Add(MachineId, Context);
        await presence.ConnectedAsync(MachineId, connections.InstanceId, Context.ConnectionAborted);
        logger.LogInformation("Machine {Machine} connected", MachineId);
    }

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        if (connections.Remove(MachineId, Context.ConnectionId))
            await presence.DisconnectedAsync(MachineId, connections.InstanceId, CancellationToken.None);
        logger.LogInformation("Machine {Machine} disconnected{Reason}", MachineId, exception is null ? "" : ": " + exception.Message);
    }

    /// <summary>The agent says who it is; the portal answers with the machine's settings.</summary>
    public async Task<AgentSettings> Hello(AgentHello hello)
    {
        await presence.HelloAsync(MachineId, hello.OperatingSystem, hello.AgentVersion, Context.ConnectionAborted);
        await using var db = await dbFactory.CreateDbContextAsync(Context.ConnectionAborted);
        return await SettingsAsync(db, MachineId, Context.ConnectionAborted)
               ?? throw new InvalidOperationException($"Machine {MachineId} is authenticated but not in the database.");
    }

    /// <summary>What the portal tells a machine's agent of its settings (at Hello, and when they change); null when the machine is gone.</summary>
    internal static async Task<AgentSettings?> SettingsAsync(PortalDbContext db, Guid machineId, CancellationToken ct)
    {
        var machine = await db.Machines.AsNoTracking().FirstOrDefaultAsync(m => m.Id == machineId, ct);
        if (machine is null)
            return null;
        var vault = await db.Vaults.AsNoTracking().Where(v => v.Id == machine.VaultId).Select(v => v.Name).FirstAsync(ct);
        return new AgentSettings(machine.Id, machine.Name, machine.VaultId, vault, machine.UploadKiBPerSecond, machine.OffHoursUploadKiBPerSecond);
    }

    /// <summary>The oldest queued job of this machine whose concurrency key is free, with its input as the agent needs it; null when none.</summary>
    public async Task<AgentJob?> Claim()
    {
        if (await jobs.ClaimForMachineAsync(MachineId, pipeline.RemoteOperations, Context.ConnectionAborted) is not { } claimed)
            return null;
        string input;
        try
        {
            input = await pipeline.ForExecutorAsync(claimed, Context.ConnectionAborted);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Preparing the job failed (its item is gone, the grant cannot be made): it ends here, with the handler's words.
            await pipeline.FailRemoteAsync(claimed, e, CancellationToken.None);
            return null;
        }

        return new AgentJob(new AgentLease(claimed.Lease.JobId, claimed.Lease.Attempt), claimed.Operation, input, jobOptions.Value.HeartbeatInterval);
    }

    /// <summary>Progress and heartbeat of a job this machine runs.</summary>
    public async Task<AgentControl> Report(AgentLease lease, AgentProgress progress)
    {
        var report = new JobProgressReport(Clip(progress.Phase, 100), Math.Max(0, progress.BytesDone), progress.BytesTotal is < 0 ? null : progress.BytesTotal,
            Math.Max(0, progress.FilesDone), progress.FilesTotal is < 0 ? null : progress.FilesTotal, ClipOrNull(progress.CurrentPath, 1024),
            progress.BytesPerSecond is > 0 and < 1e12 ? progress.BytesPerSecond : null);
        return await jobs.ReportAsync(Lease(lease), report, Context.ConnectionAborted) switch
        {
            JobControl.Continue => AgentControl.Continue,
            JobControl.Cancel => AgentControl.Cancel,
            _ => AgentControl.Lost,
        };
    }

    /// <summary>Lines of a job's log (at most <see cref="MaxLines"/> a call, each clipped).</summary>
    public Task Log(AgentLease lease, AgentLogLevel level, string[] lines)
    {
        var jobLevel = level switch { AgentLogLevel.Warning => JobLogLevel.Warning, AgentLogLevel.Error => JobLogLevel.Error, _ => JobLogLevel.Info };
        return jobs.LogAsync(Lease(lease), jobLevel, [.. (lines ?? []).Take(MaxLines).Select(l => Clip(l, MaxText))], Context.ConnectionAborted);
    }

    /// <summary>The machine's outcome: the portal completes the job (false: the job is no longer this attempt's).</summary>
    public async Task<bool> Finish(AgentLease lease, AgentOutcome outcome)
    {
        if (!Enum.TryParse<JobStatus>(outcome.Status, ignoreCase: false, out var status) || !status.IsFinished())
            status = JobStatus.Failed;
        var result = outcome.Result is { Length: > MaxResult } ? null : outcome.Result;
        return await pipeline.CompleteRemoteAsync(Lease(lease), new RemoteOutcome(status, ClipOrNull(outcome.Message, MaxText), result), CancellationToken.None);
    }

    private JobLease Lease(AgentLease lease) => new(lease.JobId, lease.Attempt, Executor);

    private static string Clip(string? text, int max)
    {
        var clean = new string((text ?? "").Select(c => char.IsControl(c) && c != '\n' ? ' ' : c).ToArray());
        return clean.Length > max ? clean[..(max - 1)] + "…" : clean;
    }

    private static string? ClipOrNull(string? text, int max) => text is null ? null : Clip(text, max);
}
