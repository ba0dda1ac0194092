namespace Portal.Features.Audit;

public static class AuditServiceCollectionExtensions
{
    public static IServiceCollection AddPortalAudit(this IServiceCollection services)
    {
        services.AddScoped<AuditLog>();
        return services;
    }
}
