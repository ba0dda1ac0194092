using Microsoft.Extensions.Options;
using Portal.Features.Jobs;

namespace Portal.Features.Workloads;

public static class WorkloadsServiceCollectionExtensions
{
    /// <summary>PostgreSQL database items, pre/post-backup scripts (called by AddPortalProtection, whose backups use them).</summary>
    public static IServiceCollection AddPortalWorkloads(this IServiceCollection services)
    {
        services.AddOptions<WorkloadsOptions>().BindConfiguration(WorkloadsOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WorkloadsOptions>, WorkloadsOptionsValidator>();
        services.AddSingleton<PostgreSqlTools>();
        services.AddSingleton<DatabaseSecrets>();
        services.AddSingleton<DatabaseBackup>();
        services.AddSingleton<ItemScripts>();
        services.AddJobHandler<DatabaseRestoreJob>();
        services.AddScoped<DatabaseRestoreService>();
        services.AddScoped<WorkloadService>();
        return services;
    }
}
