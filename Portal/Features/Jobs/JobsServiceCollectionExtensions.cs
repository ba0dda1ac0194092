namespace Portal.Features.Jobs;

public static class JobsServiceCollectionExtensions
{
    public static IServiceCollection AddPortalJobs(this IServiceCollection services)
    {
        services.AddSingleton<JobNotifier>();
        services.AddSingleton<JobCancellation>();
        services.AddSingleton<JobService>();
        services.AddScoped<JobQueries>();
        services.AddHostedService<AbandonedJobsReaper>();
        services.AddHostedService<JobChangeListener>();
        services.AddSignalR();
        services.AddHostedService<JobsHubRelay>();
        return services;
    }
}

public static class JobsEndpoints
{
    public static IEndpointRouteBuilder MapPortalJobs(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHub<JobsHub>(JobsHub.Path);
        return endpoints;
    }
}

/// <summary>Checks every minute for jobs whose portal instance stopped, and marks them failed.</summary>
internal sealed class AbandonedJobsReaper(JobService jobs, TimeProvider clock, ILogger<AbandonedJobsReaper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(1), clock);
        do
        {
            try
            {
                if (await jobs.FailAbandonedAsync(stoppingToken) is > 0 and var count)
                    logger.LogWarning("Marked {Count} abandoned job(s) as failed", count);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "Checking for abandoned jobs failed; retrying in a minute");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
