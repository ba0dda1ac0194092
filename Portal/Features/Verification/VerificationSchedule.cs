using Quartz;

namespace Portal.Features.Verification;

/// <summary>The nightly verification of every vault (Protection:VerificationCron), once at a time across every portal instance.</summary>
[DisallowConcurrentExecution]
internal sealed class VerificationSchedule(VerificationService verification) : IJob
{
    public static readonly JobKey Key = new("verification", "maintenance");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) => await verification.RunScheduledAsync(cancellationToken);
}
