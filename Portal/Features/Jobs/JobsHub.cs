using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Portal.Features.Identity;

namespace Portal.Features.Jobs;

/// <summary>A job's state as clients outside a Blazor circuit receive it from <c>/hubs/jobs</c> (message <c>jobChanged</c>).</summary>
public sealed record JobUpdate(
    Guid Id, JobKind Kind, JobStatus Status, string VaultName, string Subject, string Phase,
    long BytesDone, long? BytesTotal, long FilesDone, long? FilesTotal, string? Message)
{
    public static JobUpdate From(Job j) =>
        new(j.Id, j.Kind, j.Status, j.VaultName, j.Subject, j.Phase, j.BytesDone, j.BytesTotal, j.FilesDone, j.FilesTotal, j.Message);
}

/// <summary>Live job updates for clients outside a circuit (scripts, other tools). Every portal role may listen.</summary>
[Authorize(Policy = PortalPolicies.View)]
public sealed class JobsHub : Hub
{
    public const string Path = "/hubs/jobs";
    public const string JobChanged = "jobChanged";
}

/// <summary>Relays every job change this instance hears of (its own and other instances') to the hub's clients.</summary>
internal sealed class JobsHubRelay(JobNotifier notifier, IHubContext<JobsHub> hub) : IHostedService
{
    private IDisposable? subscription;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        subscription = notifier.Subscribe(JobTopic.All, RelayAsync);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        subscription?.Dispose();
        return Task.CompletedTask;
    }

    private Task RelayAsync(Job job) => hub.Clients.All.SendAsync(JobsHub.JobChanged, JobUpdate.From(job));
}
