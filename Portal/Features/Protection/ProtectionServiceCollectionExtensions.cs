using System.Collections.Specialized;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Options;
using Portal.Features.Approvals;
using Portal.Features.Jobs;
using Portal.Features.Policies;
using Portal.Features.Vaults;
using Portal.Features.Scheduling;
using Quartz;
using Portal.Data;

namespace Portal.Features.Protection;

public static class ProtectionServiceCollectionExtensions
{
    /// <summary>Name of the Quartz scheduler shared by every portal instance on one database.</summary>
    public const string SchedulerName = "Portal";

    public static IServiceCollection AddPortalProtection(this IServiceCollection services)
    {
        services.AddOptions<ProtectionOptions>().BindConfiguration(ProtectionOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ProtectionOptions>, ProtectionOptionsValidator>();

        // Data Protection seals vault keys; its key ring lives in Protection:KeyRingPath (read when first used, so
        // test hosts can point it elsewhere). Every portal host on one database must share that folder.
        services.AddDataProtection().SetApplicationName("Portal");
        services.AddOptions<KeyManagementOptions>().Configure<IOptions<ProtectionOptions>, ILoggerFactory>((km, protection, loggers) =>
        {
            var folder = new DirectoryInfo(Path.GetFullPath(protection.Value.KeyRingPath));
            folder.Create();
            km.XmlRepository = new FileSystemXmlRepository(folder, loggers);
        });

        services.AddOptions<ItemScriptOptions>();
        services.AddSingleton<ItemScripts>();
        services.AddSingleton<VaultKeys>();
        services.AddSingleton<RecoveryPointRecorder>();
        services.AddSingleton<ItemRepositories>();
        services.AddSingleton<IJobOutcomeObserver, ItemBackupOutcomes>();
        services.AddJobHandler<BackupJob>();
        services.AddJobHandler<MachineBackupJob>();
        services.AddJobHandler<CheckJob>();
        services.AddJobHandler<RepairIndexJob>();
        services.AddJobHandler<RetentionJob>();
        services.AddSingleton<Backups>();
        services.AddSingleton<RetentionRunner>();
        services.AddSingleton<ImmutabilityHolds>();
        services.AddSingleton<IVaultHolds>(sp => sp.GetRequiredService<ImmutabilityHolds>());
        services.AddSingleton<ProtectionScheduler>();
        services.AddScoped<ProtectionService>();
        services.AddScoped<UploadLimitsService>();
        services.AddScoped<SourceFolders>();
        services.AddSingleton<VaultRepositories>();
        services.AddScoped<VaultMaintenance>();
        services.AddSingleton<ItemsInVaultsAndPolicies>();
        services.AddSingleton<IVaultContents>(sp => sp.GetRequiredService<ItemsInVaultsAndPolicies>());
        services.AddSingleton<IPolicyItems>(sp => sp.GetRequiredService<ItemsInVaultsAndPolicies>());
        services.AddScoped<ICriticalOperation, StopProtectionDeleteDataOperation>();
        services.AddTransient<BackupItemJob>();
        services.AddTransient<RetentionSchedule>();

        services.AddQuartz(new NameValueCollection
        {
            ["quartz.scheduler.instanceName"] = SchedulerName,
            ["quartz.scheduler.instanceId"] = "AUTO",
        }, q =>
        {
            q.UsePersistentStore(store =>
            {
                store.UsePostgres(pg => pg.ConnectionStringName = DataServiceCollectionExtensions.ConnectionStringName);
                store.UseClustering(c =>
                {
                    c.CheckinInterval = TimeSpan.FromSeconds(10);
                    c.CheckinMisfireThreshold = TimeSpan.FromSeconds(30);
                });
                store.UseSystemTextJsonSerializer();
                store.ProvisionSchema();
            });
        });
        services.AddQuartzHostedService(o => o.WaitForJobsToComplete = false);
        services.AddHostedService<ScheduleReconciler>();
        return services;
    }
}
