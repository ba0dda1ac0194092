using Microsoft.Extensions.Options;
using Quartz;

namespace Portal.Features.Jobs.Pipeline;

/// <summary>
/// Keeps one Quartz job's cron trigger (UTC) at its configured expression; set once when the portal starts. The job
/// itself runs once at a time across every portal instance (Quartz's clustered store).
/// </summary>
internal sealed class CronSchedule<TJob>(ISchedulerFactory schedulers, JobKey key, Func<string> cron, string what, ILogger<CronSchedule<TJob>> logger)
    : BackgroundService where TJob : IJob
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await EnsureAsync(stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "The {What} could not be scheduled; it does not run until the portal restarts with its database reachable", what);
        }
    }

    public async Task EnsureAsync(CancellationToken ct) =>
        await CronTriggers.EnsureAsync<TJob>(await schedulers.GetScheduler(ct), key, cron(), ct);
}

public static class CronScheduleServiceCollectionExtensions
{
    /// <summary>Schedules <typeparamref name="TJob"/> under <paramref name="key"/> at the cron expression <paramref name="cron"/> reads from <typeparamref name="TOptions"/>.</summary>
    public static IServiceCollection AddCronSchedule<TJob, TOptions>(this IServiceCollection services, JobKey key, Func<TOptions, string> cron, string what)
        where TJob : IJob where TOptions : class =>
        services.AddHostedService(sp => new CronSchedule<TJob>(sp.GetRequiredService<ISchedulerFactory>(), key,
            () => cron(sp.GetRequiredService<IOptions<TOptions>>().Value), what, sp.GetRequiredService<ILogger<CronSchedule<TJob>>>()));
}
