namespace Portal.Features.Vaults;

public static class VaultsServiceCollectionExtensions
{
    public static IServiceCollection AddPortalVaults(this IServiceCollection services)
    {
        services.AddScoped<VaultService>();
        return services;
    }
}
