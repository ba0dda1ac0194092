namespace Portal.Features.Regions;

public static class RegionsServiceCollectionExtensions
{
    public static IServiceCollection AddPortalRegions(this IServiceCollection services)
    {
        services.AddOptions<StorageOptions>()
            .BindConfiguration(StorageOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<StorageOptions>, StorageOptionsValidator>();
        services.AddSingleton<RegionCatalog>();
        return services;
    }
}
