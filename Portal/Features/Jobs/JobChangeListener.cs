using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Features.Common;

namespace Portal.Features.Jobs;

/// <summary>
/// Job changes across portal instances on one database: <see cref="JobService"/> sends a PostgreSQL
/// <c>NOTIFY portal_jobs</c> after each change; this listener, in every instance, hears the others' (through
/// <see cref="ClusterSignals"/>) and tells its own pages and hub clients, so a job running on one instance shows live
/// progress on another.
/// </summary>
internal sealed class JobChangeListener(
    IDbContextFactory<PortalDbContext> dbFactory, ClusterSignals signals, JobNotifier notifier, JobService jobs, JobCancellation cancellation,
    ILogger<JobChangeListener> logger)
    : IHostedService
{
    public const string Channel = "portal_jobs";
    private IDisposable? subscription;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        subscription = signals.Subscribe(Channel, RelayAsync);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        subscription?.Dispose();
        return Task.CompletedTask;
    }

    private async Task RelayAsync(string sender, string payload)
    {
        if (sender == jobs.InstanceId.ToString("N") || !Guid.TryParse(payload, out var jobId))
            return; // our own changes were told locally already
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            if (await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId) is { } job)
            {
                if (job.Status == JobStatus.Cancelling)
                    cancellation.Cancel(job.Id); // asked on another instance; a no-op unless it runs here
                notifier.Publish(job);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogDebug(e, "Job change {Job} from another instance not relayed", jobId);
        }
    }
}
