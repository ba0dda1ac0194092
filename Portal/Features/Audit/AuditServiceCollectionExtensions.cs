using Portal.Features.Identity;

namespace Portal.Features.Audit;

public static class AuditServiceCollectionExtensions
{
    public static IServiceCollection AddPortalAudit(this IServiceCollection services)
    {
        services.AddScoped<AuditLog>();
        services.AddScoped<ISignInObserver, SignInAudit>();
        return services;
    }
}
