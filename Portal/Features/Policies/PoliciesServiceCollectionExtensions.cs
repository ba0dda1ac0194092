using Portal.Features.Approvals;

namespace Portal.Features.Policies;

public static class PoliciesServiceCollectionExtensions
{
    public static IServiceCollection AddPortalPolicies(this IServiceCollection services)
    {
        services.AddScoped<PolicyService>();
        services.AddScoped<ICriticalOperation, ReducePolicyRetentionOperation>();
        return services;
    }
}
