using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;
using Portal.Features.Protection;

namespace Portal.Features.Verification;

public static class VerificationServiceCollectionExtensions
{
    public static IServiceCollection AddPortalVerification(this IServiceCollection services)
    {
        services.AddJobHandler<VerificationJob>();
        services.AddScoped<VerificationService>();
        services.AddCronSchedule<VerificationSchedule, ProtectionOptions>(VerificationSchedule.Key, o => o.VerificationCron, "nightly verification of vaults");
        return services;
    }
}
