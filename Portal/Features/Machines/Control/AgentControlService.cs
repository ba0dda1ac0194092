using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Data;
using Portal.Engine.Agents;
using Portal.Features.Jobs;

namespace Portal.Features.Machines;

/// <summary>
/// What this instance does for the agents connected to it: wakes a machine when a job of its is queued (on any instance:
/// job changes reach every instance), closes a revoked machine's connections at once (the revocation reaches every
/// instance), sends a machine its settings when they change (its upload limits apply at once, even mid-backup), writes the connected machines' last contact every <see cref="MachinePresence.TouchInterval"/>, and gives
/// up queued jobs of machines that stayed offline past <see cref="MachinesOptions.OfflineWindow"/> or were revoked.
/// </summary>
internal sealed class AgentControlService(
    AgentConnections connections,
    MachinePresence presence,
    JobNotifier notifier,
    MachineSignals signals,
    JobService jobs,
    IHubContext<AgentHub> hub,
    IDbContextFactory<PortalDbContext> dbFactory,
    IOptions<MachinesOptions> options,
    TimeProvider clock,
    ILogger<AgentControlService> logger) : BackgroundService
{
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        subscriptions.Add(notifier.Subscribe(JobTopic.All, WakeAsync));
        subscriptions.Add(signals.OnRevoked(RevokedAsync));
        subscriptions.Add(signals.OnSettingsChanged(SettingsChangedAsync));
        return base.StartAsync(cancellationToken);
    }

    private readonly List<IDisposable> subscriptions = [];

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var subscription in subscriptions)
            subscription.Dispose();
        await base.StopAsync(cancellationToken);
    }

    private Task WakeAsync(Job job)
    {
        if (job.MachineId is not { } machine || job.Status != JobStatus.Queued || connections.Of(machine) is not { Count: > 0 } ids)
            return Task.CompletedTask;
        return hub.Clients.Clients(ids).SendAsync(AgentClientMethods.Wake);
    }

    private Task RevokedAsync(Guid machineId)
    {
        if (connections.Abort(machineId) is > 0 and var closed)
            logger.LogWarning("Machine {Machine} was revoked: closed its {Count} connection(s)", machineId, closed);
        return Task.CompletedTask;
    }

    private async Task SettingsChangedAsync(Guid machineId)
    {
        if (connections.Of(machineId) is not { Count: > 0 } ids)
            return; // connected elsewhere (that instance sends them) or offline (it reads them at its next Hello)
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            if (await AgentHub.SettingsAsync(db, machineId, CancellationToken.None) is { } settings)
                await hub.Clients.Clients(ids).SendAsync(AgentClientMethods.Settings, settings);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The change is committed: the agent reads it at its next Hello (after a reconnect).
            logger.LogWarning("Sending machine {Machine} its changed settings failed ({Reason}); it reads them when it reconnects", machineId, e.Message);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(MachinePresence.TouchInterval, clock);
        do
        {
            try
            {
                await presence.TouchAsync(connections.Machines, connections.InstanceId, stoppingToken);
                await GiveUpOfflineAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Keeping machines' presence failed, trying again in {Interval}: {Reason}", MachinePresence.TouchInterval, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Fails queued jobs of revoked machines, and of machines offline for longer than the window since the job was queued.</summary>
    internal async Task<int> GiveUpOfflineAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var window = options.Value.OfflineWindow;
        List<(Job Job, Machine Machine)> waiting;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            waiting = [.. (await db.Jobs.AsNoTracking().Where(j => j.Status == JobStatus.Queued && j.MachineId != null)
                    .Join(db.Machines.AsNoTracking(), j => j.MachineId, m => m.Id, (j, m) => new { j, m }).ToListAsync(ct))
                .Select(x => (x.j, x.m))];
        var given = 0;
        foreach (var (job, machine) in waiting)
        {
            string? reason = null;
            if (machine.RevokedAt is { } revoked)
                reason = $"Machine {machine.Name} was revoked by {machine.RevokedBy} on {revoked:yyyy-MM-dd HH:mm} UTC before it ran this job. Register the machine again to back it up.";
            else if (!MachinePresence.IsOnline(machine, now) && now - job.QueuedAt >= window)
                reason = $"Machine {machine.Name} is offline " +
                         (MachinePresence.OfflineSince(machine) is { } since ? $"since {since:yyyy-MM-dd HH:mm} UTC" : "(it never connected)") +
                         $": the job waited {Describe(window)} for it and was given up. Check that the machine is on and its agent runs (systemctl status portal-agent).";
            if (reason is not null && await jobs.FailQueuedAsync(job.Id, reason, ct))
                given++;
        }

        return given;
    }

    private static string Describe(TimeSpan span) =>
        span.TotalHours >= 1 && span.Minutes == 0 ? $"{span.TotalHours:0} hour{(span.TotalHours == 1 ? "" : "s")}" : $"{span.TotalMinutes:0} minutes";
}
