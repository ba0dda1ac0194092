using Microsoft.Extensions.Options;
using Portal.Features.Jobs;
using Portal.Features.Protection;

namespace Portal.Features.Workloads;

public static class WorkloadsServiceCollectionExtensions
{
    /// <summary>PostgreSQL database items in protection and their restores; the scripts' default timeout from the Workloads settings.</summary>
    public static IServiceCollection AddPortalWorkloads(this IServiceCollection services)
    {
        services.AddOptions<WorkloadsOptions>().BindConfiguration(WorkloadsOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WorkloadsOptions>, WorkloadsOptionsValidator>();
        services.AddSingleton<PostgreSqlTools>();
        services.AddSingleton<DatabaseSecrets>();
        services.AddSingleton<DatabaseBackup>();
        services.AddSingleton<DatabaseDrill>();
        services.AddSingleton<IDatabaseWorkload, PostgreSqlWorkload>();
        services.AddOptions<ItemScriptOptions>().Configure<IOptions<WorkloadsOptions>>((scripts, workloads) =>
            scripts.DefaultTimeoutSeconds = workloads.Value.DefaultScriptTimeoutSeconds);
        services.AddJobHandler<DatabaseRestoreJob>();
        services.AddScoped<DatabaseRestoreService>();
        services.AddScoped<WorkloadService>();
        return services;
    }
}
