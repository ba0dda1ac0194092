using Portal.Features.Approvals;

namespace Portal.Features.Vaults;

public static class VaultsServiceCollectionExtensions
{
    public static IServiceCollection AddPortalVaults(this IServiceCollection services)
    {
        services.AddScoped<VaultService>();
        services.AddScoped<ICriticalOperation, DeleteVaultOperation>();
        services.AddScoped<ICriticalOperation, DisableSoftDeleteOperation>();
        services.AddScoped<ICriticalOperation, LockImmutabilityOperation>();
        services.AddScoped<ICriticalOperation, RemoveSecondaryCopyOperation>();
        return services;
    }
}
