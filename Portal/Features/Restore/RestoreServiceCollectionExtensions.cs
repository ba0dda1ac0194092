using Microsoft.Extensions.Options;

namespace Portal.Features.Restore;

public static class RestoreServiceCollectionExtensions
{
    public static IServiceCollection AddPortalRestore(this IServiceCollection services)
    {
        services.AddOptions<RestoreOptions>().BindConfiguration(RestoreOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RestoreOptions>, RestoreOptionsValidator>();
        services.AddScoped<RestoreService>();
        services.AddSingleton<RestoreRunner>();
        services.AddTransient<RestoreItemJob>();
        return services;
    }
}
