using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Portal.Features.Approvals;
using Portal.Features.Jobs;
using Portal.Features.Replication;

namespace Portal.Features.Alerts;

public static class AlertsServiceCollectionExtensions
{
    /// <summary>Alerts: raising and resolving, the evaluator of conditions, the email and webhook outbox, the queries pages use.</summary>
    public static IServiceCollection AddPortalAlerts(this IServiceCollection services)
    {
        services.AddOptions<AlertOptions>().BindConfiguration(AlertOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AlertOptions>, AlertOptionsValidator>();
        services.TryAddSingleton<ReplicationStatus>();
        services.AddSingleton<AlertNotifier>();
        services.AddSingleton<AlertService>();
        services.AddSingleton<IJobOutcomeObserver, JobAlerts>();
        services.AddSingleton<DrillAlerts>();
        services.AddSingleton<IJobOutcomeObserver>(sp => sp.GetRequiredService<DrillAlerts>());
        services.AddSingleton<IRegionScrubObserver, ScrubAlerts>();
        services.AddScoped<ICriticalOperationObserver, CriticalOperationAlerts>();
        services.AddScoped<AlertQueries>();
        services.AddScoped<AlertSettingsService>();
        services.AddSingleton<AlertEmailSender>();
        services.AddHttpClient(AlertWebhookSender.HttpClientName, http => http.Timeout = Timeout.InfiniteTimeSpan); // the worker's own timeout applies
        services.AddSingleton<AlertWebhookSender>();
        services.AddSingleton<AlertEvaluator>();
        services.AddHostedService(sp => sp.GetRequiredService<AlertEvaluator>());
        services.AddSingleton<AlertDeliveryWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<AlertDeliveryWorker>());
        return services;
    }
}
