using Quartz;

namespace Portal.Features.Jobs.Pipeline;

/// <summary>
/// The Quartz job of one backup item's schedule (its backups, its drills): the job's key names the item (its id in "N"
/// format) and a firing only queues the item's work for the job pipeline, so any instance runs it and the firing is quick.
/// A slot whose queueing fails is missed, not retried: it is logged, and the kind's own alert (RPO breached, drill overdue)
/// says so if slots keep being missed. Each kind is a small subclass that says what it queues; Quartz stores the subclass's
/// type name for every scheduled item, so a subclass keeps its name and namespace once released.
/// Subclasses carry <see cref="DisallowConcurrentExecutionAttribute"/> themselves: one firing of an item at a time.
/// </summary>
public abstract class ItemScheduleJob(ILogger logger) : IJob
{
    /// <summary>The work in words for the log: "backup", "drill".</summary>
    protected abstract string Work { get; }

    /// <summary>Queues the scheduled work of the item (nothing when it no longer applies: stopped, off, already queued).</summary>
    protected abstract Task QueueAsync(Guid itemId, CancellationToken ct);

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        if (!Guid.TryParseExact(context.JobDetail.Key.Name, "N", out var itemId))
            return;
        try
        {
            await QueueAsync(itemId, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Queueing the scheduled {Work} of item {Item} failed; this slot is missed", Work, itemId);
        }
    }
}
