using Portal.Features.Regions;

namespace Portal.Features.Replication;

public static class ReplicationServiceCollectionExtensions
{
    public static IServiceCollection AddPortalReplication(this IServiceCollection services)
    {
        services.AddOptions<ReplicationOptions>().BindConfiguration(ReplicationOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<RegionStores>();
        services.AddSingleton<ReplicationStatus>();
        services.AddSingleton<ReplicationService>();
        services.AddHostedService(sp => sp.GetRequiredService<ReplicationService>());
        return services;
    }
}
