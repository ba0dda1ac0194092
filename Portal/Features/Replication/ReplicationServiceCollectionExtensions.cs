using Microsoft.Extensions.DependencyInjection.Extensions;
using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;
using Portal.Features.Regions;

namespace Portal.Features.Replication;

public static class ReplicationServiceCollectionExtensions
{
    public static IServiceCollection AddPortalReplication(this IServiceCollection services)
    {
        services.AddOptions<ReplicationOptions>().BindConfiguration(ReplicationOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<RegionStores>();
        services.AddSingleton<ReplicationStatus>();
        services.AddPortalReplicationLimits();
        services.AddJobHandler<ReplicationJob>();
        services.AddSingleton<ReplicationService>();
        services.AddHostedService(sp => sp.GetRequiredService<ReplicationService>());
        services.AddPortalReplicaRepair();
        return services;
    }

    /// <summary>Each vault's replication limits set in the portal, and the pacing of replication by them.</summary>
    public static IServiceCollection AddPortalReplicationLimits(this IServiceCollection services)
    {
        services.AddScoped<ReplicationLimitsService>();
        services.AddSingleton<ReplicationThrottle>();
        return services;
    }

    /// <summary>
    /// LRS upkeep: the repair pass over the regions' journals and the scheduled scrub (its Quartz job runs on the scheduler
    /// that <c>AddPortalProtection</c> sets up).
    /// </summary>
    public static IServiceCollection AddPortalReplicaRepair(this IServiceCollection services)
    {
        services.TryAddSingleton<RepairJournals>();
        services.AddSingleton<RepairService>();
        services.AddHostedService(sp => sp.GetRequiredService<RepairService>());
        services.AddSingleton<RegionScrub>();
        services.AddJobHandler<RegionScrubJob>();
        services.AddSingleton<ScrubRunner>();
        services.AddScoped<ScrubRequests>();
        services.AddSingleton<RegionScrubs>();
        services.AddTransient<ScrubJob>();
        services.AddCronSchedule<ScrubJob, StorageOptions>(ScrubJob.Key, o => o.ScrubCron, "replica scrub");
        return services;
    }
}
