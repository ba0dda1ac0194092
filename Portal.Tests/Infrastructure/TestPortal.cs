using System.Security.Claims;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Portal.Features.Machines;
using Portal.Features.Alerts;
using Portal.Features.Approvals;
using Portal.Features.Audit;
using Portal.Features.Identity;
using Portal.Features.BackupCenter;
using Portal.Features.Policies;
using Portal.Features.Regions;
using Portal.Features.Vaults;

namespace Portal.Tests.Infrastructure;

/// <summary>The portal's real feature services, wired as the host wires them, for one signed-in user.</summary>
public static class TestPortal
{
    /// <summary>Adds the feature services (without the caller identity) to <paramref name="services"/>.</summary>
    public static IServiceCollection AddFeatureServices(this IServiceCollection services, TestDatabase database, TimeProvider? clock = null)
    {
        services.AddLogging();
        services.AddSingleton(database.Factory);
        services.AddSingleton<RegionCatalog>(TestRegions.Catalog());
        services.AddSingleton(clock ?? TimeProvider.System);
        services.AddPortalAudit();
        services.AddPortalApprovals();
        services.AddPortalVaults();
        services.AddPortalPolicies();
        // What vaults and policies ask about their items, answered by Protection (whose scheduler these tests do without).
        services.AddSingleton<Portal.Features.Protection.ItemsInVaultsAndPolicies>();
        services.AddSingleton<Portal.Features.Vaults.IVaultContents>(sp => sp.GetRequiredService<Portal.Features.Protection.ItemsInVaultsAndPolicies>());
        services.AddSingleton<Portal.Features.Policies.IPolicyItems>(sp => sp.GetRequiredService<Portal.Features.Protection.ItemsInVaultsAndPolicies>());
        services.AddSingleton<Portal.Features.Jobs.JobNotifier>();
        services.AddSingleton<Portal.Features.Jobs.JobCancellation>();
        services.AddSingleton<Portal.Features.Jobs.JobService>();
        // Pages that queue jobs (the vault page's checks, through ProtectionService) need the pipeline since the job pipeline merge.
        services.AddSingleton<Portal.Features.Jobs.Pipeline.IJobChannel>(sp => sp.GetRequiredService<Portal.Features.Jobs.JobService>());
        services.AddSingleton<Portal.Features.Jobs.Pipeline.JobPipeline>();
        services.AddScoped<Portal.Features.Jobs.JobQueries>();
        services.AddPortalBackupCenter();
        services.AddSingleton<Portal.Features.Replication.ReplicationStatus>();
        services.TryAddSingleton<IConfiguration>(new ConfigurationBuilder().Build()); // alerts bind their (empty) section
        services.AddPortalAlerts();
        services.AddPortalMachines();
        services.AddSingleton<Portal.Features.Replication.RegionScrubs>();
        services.AddSingleton<Portal.Features.Replication.RegionScrub>(); // needs RegionStores, which AddProtectionServices adds
        Portal.Features.Jobs.JobsServiceCollectionExtensions.AddJobHandler<Portal.Features.Replication.RegionScrubJob>(services);
        services.AddSingleton<Portal.Features.Replication.ScrubRunner>();
        services.AddScoped<Portal.Features.Replication.ScrubRequests>();
        return services;
    }

    /// <summary>A service provider whose <see cref="ICurrentUser"/> is <paramref name="user"/>.</summary>
    public static IServiceProvider For(TestDatabase database, ClaimsPrincipal user, TimeProvider? clock = null) =>
        new ServiceCollection()
            .AddFeatureServices(database, clock)
            .AddSingleton<ICurrentUser>(new FixedCurrentUser(user))
            .BuildServiceProvider();

    public static VaultService Vaults(this IServiceProvider services) => services.GetRequiredService<VaultService>();

    public static ApprovalService Approvals(this IServiceProvider services) => services.GetRequiredService<ApprovalService>();

    public static AuditLog Audit(this IServiceProvider services) => services.GetRequiredService<AuditLog>();

    public static PolicyService Policies(this IServiceProvider services) => services.GetRequiredService<PolicyService>();

    public static Portal.Features.Jobs.JobQueries Jobs(this IServiceProvider services) => services.GetRequiredService<Portal.Features.Jobs.JobQueries>();
}
