using System.Security.Claims;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Portal.Features.Machines;
using Portal.Features.Attach;
using Portal.Features.Workloads;
using Portal.Features.Alerts;
using Portal.Features.Drills;
using Portal.Features.Verification;
using Portal.Features.Approvals;
using Portal.Features.Audit;
using Portal.Features.Identity;
using Portal.Features.Policies;
using Portal.Features.Vaults;
using Portal.Features.Jobs;
using Portal.Features.Protection;
using Portal.Features.Regions;
using Portal.Features.Restore;

namespace Portal.Tests.Infrastructure;

/// <summary>
/// One portal instance without the web part: the real protection, jobs, scheduler (Quartz, clustered, on the test
/// database) and storage (real folders), started as a host. Two hosts on one database and one folder are a cluster.
/// The caller is whoever <see cref="ActAs"/> says.
/// </summary>
public sealed class ProtectionHost : IAsyncDisposable
{
    private readonly IHost host;

    private ProtectionHost(IHost host, string root) => (this.host, Root) = (host, root);

    /// <summary>The shared folder: storage under regions/, sources under sources/, the key ring under keys/.</summary>
    public string Root { get; }

    public string SourceRoot => Path.Combine(Root, "sources");

    /// <summary>The folder alternate restores may write under (Restore:Roots).</summary>
    public string RestoreRoot => Path.Combine(Root, "restores");

    public IServiceProvider Services => host.Services;

    public static async Task<ProtectionHost> StartAsync(TestDatabase database, string root, TimeProvider? clock = null, bool start = true,
        IReadOnlyDictionary<string, string?>? settings = null, Action<IServiceCollection>? configure = null, int? singleReplicas = null)
    {
        Directory.CreateDirectory(Path.Combine(root, "sources"));
        Directory.CreateDirectory(Path.Combine(root, "restores"));
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Portal"] = database.ConnectionString,
            ["Protection:SourceRoots:0"] = Path.Combine(root, "sources"),
            ["Protection:KeyRingPath"] = Path.Combine(root, "keys"),
            ["Protection:KdfMemoryKiB"] = "1024",
            ["Protection:KdfIterations"] = "1",
            ["Protection:RetentionCron"] = "0 0 3 1 1 ? 2099", // tests run retention themselves
            ["Restore:Roots:0"] = Path.Combine(root, "restores"),
        });
        if (settings is not null)
            builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var services = builder.Services;
        services.AddSingleton(database.Factory);
        services.AddSingleton(clock ?? TimeProvider.System);
        var storage = TestRegions.Options(singleReplicas);
        storage.Root = Path.Combine(root, "regions");
        services.AddSingleton(Options.Create(storage));
        services.AddSingleton(new RegionCatalog(Options.Create(storage)));
        services.AddSingleton<RegionStores>();
        services.AddScoped<ScopedCurrentUser>();
        services.AddScoped<ICurrentUser>(sp => sp.GetRequiredService<ScopedCurrentUser>());
        services.AddPortalAudit();
        services.AddPortalApprovals();
        services.AddPortalVaults();
        PoliciesServiceCollectionExtensions.AddPortalPolicies(services);
        services.AddPortalJobs();
        services.AddPortalProtection();
        services.AddPortalWorkloads();
        services.AddPortalRestore();
        services.AddPortalDrills();
        services.AddPortalVerification();
        services.AddPortalAlerts();
        services.AddPortalMachines();
        services.AddPortalAttach();
        configure?.Invoke(services);
        var host = builder.Build();
        if (start)
            await host.StartAsync();
        return new ProtectionHost(host, root);
    }

    public Task StartAsync() => host.StartAsync();

    /// <summary>The services as <paramref name="user"/> calls them: a scope of its own whose caller is <paramref name="user"/>.</summary>
    public IServiceProvider ActAs(ClaimsPrincipal user)
    {
        var scope = host.Services.CreateScope().ServiceProvider;
        scope.GetRequiredService<ScopedCurrentUser>().User = user;
        return scope;
    }

    public ProtectionService Protection(ClaimsPrincipal user) => ActAs(user).GetRequiredService<ProtectionService>();

    public JobService Jobs => host.Services.GetRequiredService<JobService>();

    /// <summary>Waits (event-driven, no polling) until <paramref name="jobId"/> satisfies <paramref name="done"/>; fails after 60 s.</summary>
    public async Task<Job> WaitForJobAsync(Guid jobId, Func<Job, bool> done, TimeSpan? timeout = null)
    {
        var notifier = host.Services.GetRequiredService<JobNotifier>();
        var reached = new TaskCompletionSource<Job>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task OnChanged(Job job)
        {
            if (done(job))
                reached.TrySetResult(job);
            return Task.CompletedTask;
        }

        using var subscription = notifier.Subscribe(JobTopic.OfJob(jobId), OnChanged);
        await using (var db = await host.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<Portal.Data.PortalDbContext>>().CreateDbContextAsync())
            if (await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.FirstOrDefaultAsync(db.Jobs, j => j.Id == jobId) is { } now && done(now))
                return now;
        return await reached.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(60));
    }

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync();
        host.Dispose();
    }
}

/// <summary>The caller of one scope of a <see cref="ProtectionHost"/>'s services.</summary>
public sealed class ScopedCurrentUser : ICurrentUser
{
    public ClaimsPrincipal User { get; set; } = new();

    public Task<ClaimsPrincipal> GetPrincipalAsync() => Task.FromResult(User);
}
