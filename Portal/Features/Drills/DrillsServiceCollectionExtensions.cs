using Microsoft.Extensions.Options;
using Portal.Features.Jobs;

namespace Portal.Features.Drills;

public static class DrillsServiceCollectionExtensions
{
    public static IServiceCollection AddPortalDrills(this IServiceCollection services)
    {
        services.AddOptions<DrillOptions>().BindConfiguration(DrillOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DrillOptions>, DrillOptionsValidator>();
        services.AddJobHandler<DrillJob>();
        services.AddJobHandler<MachineDrillJob>();
        services.AddScoped<DrillService>();
        services.AddScoped<DrillEvidence>();
        services.AddSingleton<DrillScheduler>();
        services.AddSingleton<DrillRuns>();
        services.AddTransient<DrillScheduleJob>();
        services.AddHostedService<DrillScheduleReconciler>();
        return services;
    }
}
