using Portal.Features.Jobs;
using Portal.Features.Reports;

namespace Portal.Features.BackupCenter;

public static class BackupCenterServiceCollectionExtensions
{
    public static IServiceCollection AddPortalBackupCenter(this IServiceCollection services)
    {
        services.AddOptions<BackupCenterOptions>().BindConfiguration(BackupCenterOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddScoped<BackupCenterService>();
        services.AddPortalReports(); // the center's trends are the reports' figures
        services.AddSingleton<StorageMeter>();
        services.AddHostedService(sp => sp.GetRequiredService<StorageMeter>());
        services.AddSingleton<Vaults.IVaultStorageUsed, VaultStorageUsed>();
        services.AddSingleton<StorageMeasurementRequests>();
        services.AddSingleton<IJobOutcomeObserver>(sp => sp.GetRequiredService<StorageMeasurementRequests>());
        services.AddHostedService<StorageAfterJobs>();
        return services;
    }
}
