using Portal.Features.Approvals;
using Portal.Features.Vaults;

namespace Portal.Features.Policies;

public static class PoliciesServiceCollectionExtensions
{
    public static IServiceCollection AddPortalPolicies(this IServiceCollection services)
    {
        services.AddScoped<PolicyService>();
        services.AddSingleton<IVaultCreationObserver, DefaultPolicy>();
        services.AddScoped<ICriticalOperation, ReducePolicyRetentionOperation>();
        return services;
    }
}
