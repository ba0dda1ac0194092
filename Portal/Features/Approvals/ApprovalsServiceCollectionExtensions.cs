namespace Portal.Features.Approvals;

public static class ApprovalsServiceCollectionExtensions
{
    public static IServiceCollection AddPortalApprovals(this IServiceCollection services)
    {
        services.AddScoped<ApprovalService>();
        return services;
    }
}
