using Microsoft.Extensions.Options;
using Portal.Features.Jobs;

namespace Portal.Features.Restore;

public static class RestoreServiceCollectionExtensions
{
    public static IServiceCollection AddPortalRestore(this IServiceCollection services)
    {
        services.AddOptions<RestoreOptions>().BindConfiguration(RestoreOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RestoreOptions>, RestoreOptionsValidator>();
        services.AddScoped<RestoreService>();
        services.AddJobHandler<RestoreJob>();
        services.AddJobHandler<MachineRestoreJob>();
        return services;
    }
}
