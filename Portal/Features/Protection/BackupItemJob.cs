using Portal.Features.Protection;
using Quartz;

// Quartz's tables store this job's full type name for every scheduled item, so it keeps the namespace it was first
// stored under: renaming it would orphan the schedules of existing installations.
namespace Portal.Features.Scheduling;

/// <summary>
/// The Quartz job of one item's schedule: queues a scheduled backup for the job pipeline (any instance runs it, one
/// backup of the item at a time). Firing only queues, so it is quick and never overlaps itself.
/// </summary>
[DisallowConcurrentExecution]
internal sealed class BackupItemJob(Backups backups, ILogger<BackupItemJob> logger) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        if (!Guid.TryParseExact(context.JobDetail.Key.Name, "N", out var itemId))
            return;
        try
        {
            await backups.EnqueueScheduledAsync(itemId, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The slot is missed; the item's RPO alert says so if the next one is missed too.
            logger.LogError(e, "Queueing the scheduled backup of item {Item} failed", itemId);
        }
    }
}
