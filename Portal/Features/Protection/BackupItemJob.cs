using Portal.Features.Jobs.Pipeline;
using Portal.Features.Protection;
using Quartz;

// Quartz's tables store this job's full type name for every scheduled item, so it keeps the namespace it was first
// stored under: renaming it would orphan the schedules of existing installations.
namespace Portal.Features.Scheduling;

/// <summary>One item's backup schedule: queues a scheduled backup (one backup of the item at a time; the RPO alert tells of missed slots).</summary>
[DisallowConcurrentExecution]
internal sealed class BackupItemJob(Backups backups, ILogger<BackupItemJob> logger) : ItemScheduleJob(logger)
{
    protected override string Work => "backup";

    protected override Task QueueAsync(Guid itemId, CancellationToken ct) => backups.EnqueueScheduledAsync(itemId, ct);
}
