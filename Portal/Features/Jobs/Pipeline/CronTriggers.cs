using Quartz;

namespace Portal.Features.Jobs.Pipeline;

/// <summary>
/// The one recurring Quartz trigger of a maintenance job (retention, scrub…): a durable job of type
/// <typeparamref name="TJob"/> under <paramref name="key"/> with one UTC cron trigger. Unchanged, it is left alone, so a
/// misfire it has to catch up on is kept; a job stored by an older version under another type is replaced.
/// </summary>
public static class CronTriggers
{
    public static async Task EnsureAsync<TJob>(IScheduler scheduler, JobKey key, string cron, CancellationToken ct) where TJob : IJob
    {
        var triggerKey = new TriggerKey(key.Name, key.Group);
        if (await scheduler.GetTrigger(triggerKey, ct) is ICronTrigger current && current.CronExpressionString == cron
            && (await scheduler.GetJobDetail(key, ct))?.JobType.Type == typeof(TJob))
            return;
        try
        {
            await scheduler.AddJob(JobBuilder.Create<TJob>().WithIdentity(key).StoreDurably().Build(), AddJobOptions.Replacing, ct);
            var trigger = TriggerBuilder.Create().WithIdentity(triggerKey).ForJob(key)
                .WithCronSchedule(cron, c => c.InTimeZone(TimeZoneInfo.Utc).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed)).Build();
            if (await scheduler.Exists(triggerKey, ct))
                await scheduler.RescheduleJob(triggerKey, trigger, ct);
            else
                await scheduler.ScheduleJob(trigger, new ScheduleJobOptions(), ct);
        }
        catch (ObjectAlreadyExistsException)
        {
            // another instance scheduled it at the same moment
        }
    }
}
