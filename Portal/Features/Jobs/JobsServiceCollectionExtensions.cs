using Portal.Features.Common;

namespace Portal.Features.Jobs;

public static class JobsServiceCollectionExtensions
{
    public static IServiceCollection AddPortalJobs(this IServiceCollection services)
    {
        services.AddOptions<JobsOptions>().BindConfiguration(JobsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<JobNotifier>();
        services.AddSingleton<JobCancellation>();
        services.AddSingleton<JobService>();
        services.AddSingleton<Pipeline.IJobChannel>(sp => sp.GetRequiredService<JobService>());
        services.AddSingleton<Pipeline.JobPipeline>();
        services.AddScoped<JobQueries>();
        services.AddHostedService<Pipeline.JobDispatcher>();
        services.AddHostedService<Pipeline.JobSweeper>();
        services.AddClusterChannel(JobChangeListener.Channel);
        services.AddHostedService<JobChangeListener>();
        services.AddSignalR();
        services.AddHostedService<JobsHubRelay>();
        return services;
    }

    /// <summary>Registers one kind of job: the pipeline runs it from then on, on any instance.</summary>
    public static IServiceCollection AddJobHandler<THandler>(this IServiceCollection services) where THandler : class, Pipeline.IJobHandler
    {
        services.AddSingleton<THandler>();
        services.AddSingleton<Pipeline.IJobHandler>(sp => sp.GetRequiredService<THandler>());
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
