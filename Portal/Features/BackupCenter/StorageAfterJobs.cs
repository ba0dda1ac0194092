using System.Threading.Channels;
using Portal.Features.Jobs;

namespace Portal.Features.BackupCenter;

/// <summary>
/// Asks for a vault's storage to be measured as soon as a job that changes what it holds ends (a backup, a retention run
/// or prune, a repair), so "Storage used" shows a figure after a new vault's first backup rather than "—" until the
/// hourly pass. It only queues the vault (a vault asked for several times while waiting is queued once): the
/// measurement lists the vault's stores, so <see cref="StorageAfterJobs"/> runs it beside the job's outcome, never inside it.
/// </summary>
public sealed class StorageMeasurementRequests : IJobOutcomeObserver
{
    private readonly Channel<Guid> requests = Channel.CreateUnbounded<Guid>(new UnboundedChannelOptions { SingleReader = true });
    private readonly HashSet<Guid> waiting = [];

    /// <summary>The job kinds after which what a vault occupies has changed (a failed or cancelled backup may leave packs).</summary>
    public static bool ChangesStorage(Job job) =>
        job.Kind is JobKind.Backup or JobKind.Retention or JobKind.Repair && job.VaultId is not null && job.Status.IsFinished();

    public Task JobFinishedAsync(Job job, CancellationToken ct)
    {
        if (ChangesStorage(job))
        {
            lock (waiting)
            {
                if (waiting.Add(job.VaultId!.Value))
                    requests.Writer.TryWrite(job.VaultId.Value);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>The vaults to measure, each as its turn comes (it may be asked for again from then on).</summary>
    internal async IAsyncEnumerable<Guid> ReadAllAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var vault in requests.Reader.ReadAllAsync(ct))
        {
            lock (waiting)
                waiting.Remove(vault); // a job ending from now on asks again: this measurement may miss what it stored
            yield return vault;
        }
    }
}

/// <summary>Measures the vaults <see cref="StorageMeasurementRequests"/> queues, one at a time.</summary>
public sealed class StorageAfterJobs(StorageMeasurementRequests requests, StorageMeter meter, ILogger<StorageAfterJobs> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var vault in requests.ReadAllAsync(stoppingToken))
        {
            try
            {
                await meter.MeasureAsync(vault, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Measuring vault {Vault} after a job failed: {Error}; the hourly pass measures it again", vault, e.Message);
            }
        }
    }
}
