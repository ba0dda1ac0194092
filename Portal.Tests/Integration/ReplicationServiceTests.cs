using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Portal.Features.Audit;
using Portal.Features.Common;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Regions;
using Portal.Features.Replication;
using Portal.Features.Vaults;
using Portal.Tests.Engine.Storage;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Integration;

/// <summary>The portal copies GRS vaults to the paired region and reports how far behind each one is.</summary>
public sealed class ReplicationServiceTests : IAsyncLifetime
{
    private readonly TestDatabase database = new();
    private readonly string root = Directory.CreateTempSubdirectory("portal-regions-").FullName;
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));

    public Task InitializeAsync() => database.InitializeAsync();

    public async Task DisposeAsync()
    {
        await database.DisposeAsync();
        Directory.Delete(root, recursive: true);
    }

    private JobService jobs = null!;

    private (ReplicationService Service, RegionStores Stores, ReplicationStatus Status) Build(TimeProvider? storageClock = null)
    {
        var options = TestRegions.Options();
        options.Root = root;
        var stores = new RegionStores(Options.Create(options), NullLogger<RegionStores>.Instance, storageClock);
        var status = new ReplicationStatus();
        var cancellation = new JobCancellation();
        jobs = new JobService(database.Factory, new JobNotifier(), cancellation, clock);
        var throttle = new ReplicationThrottle(database.Factory, stores, Options.Create(options));
        var replication = new ReplicationJob(stores, throttle, status, Options.Create(new ReplicationOptions()), clock);
        var pipeline = new Portal.Features.Jobs.Pipeline.JobPipeline([replication], jobs, cancellation, clock, Options.Create(new JobsOptions()),
            NullLogger<Portal.Features.Jobs.Pipeline.JobPipeline>.Instance);
        var service = new ReplicationService(database.Factory, stores, new RegionCatalog(Options.Create(options)), status,
            Options.Create(new ReplicationOptions()), pipeline, replication, clock, NullLogger<ReplicationService>.Instance);
        return (service, stores, status);
    }

    [Fact]
    public async Task A_GRS_vault_is_copied_to_the_paired_region_and_reported_caught_up_while_LRS_vaults_stay_home()
    {
        var vaults = TestPortal.For(database, TestUsers.WithRoles("Ann", PortalRoles.Contributor)).Vaults();
        var grs = await vaults.CreateAsync(new CreateVaultRequest("geo", "east"));
        var lrs = await vaults.CreateAsync(new CreateVaultRequest("local", "east", StorageRedundancy.LRS));
        var (service, stores, status) = Build();
        await stores.PrepareAsync(default);
        await stores.Vault(grs.Id, "east").PutAsync("config", new byte[] { 1, 2, 3 });
        await stores.Vault(lrs.Id, "east").PutAsync("config", new byte[] { 4 });

        await service.RunOnceAsync(default);

        Assert.Equal([1, 2, 3], await stores.Vault(grs.Id, "west").GetAsync("config"));
        Assert.Null(await stores.Vault(lrs.Id, "west").StatAsync("config"));
        foreach (var replica in new[] { "1", "2", "3" })
            Assert.True(File.Exists(Path.Combine(root, "west", replica, "vaults", grs.Id.ToString("N"), "config")));
        var state = status.For(grs.Id)!;
        Assert.True(state.Lag!.CaughtUp);
        Assert.Null(state.Error);
        Assert.Equal(3, state.BytesCopiedLastPass);
        Assert.Null(status.For(lrs.Id));
        var job = Assert.Single((await TestPortal.For(database, TestUsers.WithRoles("Rita", PortalRoles.Reader)).Jobs().ListAsync(new JobQuery())).Items);
        Assert.Equal((JobKind.Replication, JobStatus.Completed, "geo", "to west"), (job.Kind, job.Status, job.VaultName, job.Subject));

        await service.RunOnceAsync(default); // caught up: no new job
        Assert.Single((await TestPortal.For(database, TestUsers.WithRoles("Rita", PortalRoles.Reader)).Jobs().ListAsync(new JobQuery())).Items);
    }

    [Fact]
    public async Task LRS_to_GRS_copies_the_existing_data_and_a_confirmed_GRS_to_LRS_removes_the_pairs_copy_only()
    {
        var ann = TestPortal.For(database, TestUsers.WithRoles("Ann", PortalRoles.Contributor)).Vaults();
        var vault = await ann.CreateAsync(new CreateVaultRequest("local", "east", StorageRedundancy.LRS));
        var (service, stores, status) = Build();
        await stores.PrepareAsync(default);
        var primary = stores.Vault(vault.Id, "east");
        await primary.PutAsync("config", new byte[] { 1 });
        await primary.PutAsync("data/ab/pack-1", new byte[100]);
        await primary.PutAsync("snapshots/s1", new byte[] { 2 });
        await service.RunOnceAsync(default);
        Assert.Null(await stores.Vault(vault.Id, "west").StatAsync("config")); // LRS: nothing leaves the region

        vault = (await ann.UpdateAsync(new UpdateVaultRequest(vault.Id, vault.Version, StorageRedundancy.GRS, true, 14))).Vault;
        await service.RunOnceAsync(default);

        Assert.True(status.For(vault.Id)!.Lag!.CaughtUp);
        Assert.Equal(new byte[100], await stores.Vault(vault.Id, "west").GetAsync("data/ab/pack-1"));
        Assert.NotNull(await stores.Vault(vault.Id, "west").StatAsync("snapshots/s1"));

        vault = (await ann.UpdateAsync(new UpdateVaultRequest(vault.Id, vault.Version, StorageRedundancy.LRS, true, 14, "local"))).Vault;
        // While the primary region shows no repository, the pair's copy may be the only one: it is kept.
        var config = await primary.GetAsync("config");
        await primary.DeleteAsync("config");
        await service.RunOnceAsync(default);
        Assert.NotNull(await stores.Vault(vault.Id, "west").StatAsync("snapshots/s1"));
        await primary.PutAsync("config", config);

        await service.RunOnceAsync(default);

        await foreach (var left in stores.Vault(vault.Id, "west").ListAsync(""))
            Assert.Fail($"{left.Name} is still in west");
        Assert.Null(status.For(vault.Id));
        Assert.Equal(new byte[100], await primary.GetAsync("data/ab/pack-1")); // the primary keeps everything
        var removal = (await TestPortal.For(database, TestUsers.WithRoles("Rita", PortalRoles.Reader)).Jobs().ListAsync(new JobQuery())).Items
            .Single(j => j.Subject == "remove copy in west");
        Assert.Equal(JobStatus.Completed, removal.Status);
        Assert.Contains("removed its copy in west (3 objects)", removal.Message);

        await service.RunOnceAsync(default); // nothing left to remove: no new job
        Assert.Equal(2, (await TestPortal.For(database, TestUsers.WithRoles("Rita", PortalRoles.Reader)).Jobs().ListAsync(new JobQuery())).TotalCount);
    }

    /// <summary>The vault page's replication limits service as <paramref name="user"/> calls it.</summary>
    private ReplicationLimitsService Limits(System.Security.Claims.ClaimsPrincipal user)
    {
        var options = TestRegions.Options();
        options.Root = root;
        var services = new ServiceCollection().AddFeatureServices(database, clock).AddSingleton<ICurrentUser>(new FixedCurrentUser(user))
            .AddSingleton(Options.Create(options));
        ReplicationServiceCollectionExtensions.AddPortalReplicationLimits(services);
        return services.BuildServiceProvider().CreateScope().ServiceProvider.GetRequiredService<ReplicationLimitsService>();
    }

    private static readonly DayOfWeek[] Weekdays = [DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday, DayOfWeek.Friday];

    [Fact]
    public async Task The_next_replication_pass_is_paced_by_the_limits_set_on_the_vault_page()
    {
        var ann = TestUsers.WithRoles("Ann", PortalRoles.Contributor);
        var vault = await TestPortal.For(database, ann).Vaults().CreateAsync(new CreateVaultRequest("geo", "east"));
        var storageClock = new JumpingTimeProvider(new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero)); // a Monday, in work hours
        var (service, stores, _) = Build(storageClock);
        await stores.PrepareAsync(default);
        await stores.Vault(vault.Id, "east").PutAsync("config", new byte[] { 1 });
        await stores.Vault(vault.Id, "east").PutAsync("data/aa/pack-1", new byte[500_000]);

        var started = storageClock.GetUtcNow();
        await service.RunOnceAsync(default); // appsettings set no limit for west: no waiting
        Assert.Equal(TimeSpan.Zero, storageClock.GetUtcNow() - started);

        // 0.8 Mbps = 100,000 bytes a second in work hours; 80 Mbps at other times.
        await Limits(ann).SaveAsync(vault.Id, new ReplicationLimitsRequest("0.8", "80", Weekdays, "08:00", "18:00", "UTC"));
        await stores.Vault(vault.Id, "east").PutAsync("data/bb/pack-2", new byte[500_000]);
        started = storageClock.GetUtcNow();
        await service.RunOnceAsync(default);

        Assert.InRange((storageClock.GetUtcNow() - started).TotalSeconds, 3.9, 5.5); // 500 kB at 100 kB/s, less the one second of tokens a bucket starts with
        Assert.Equal(new byte[500_000], await stores.Vault(vault.Id, "west").GetAsync("data/bb/pack-2"));
        var pass = (await TestPortal.For(database, ann).Jobs().ListAsync(new JobQuery())).Items.First();
        Assert.Contains("Limits: at most 0.8 Mbps during work hours (Monday to Friday, 08:00–18:00 UTC), at most 80 Mbps at other times.", pass.Message);
    }

    [Fact]
    public async Task Only_a_contributor_sets_replication_limits_each_change_is_audited_and_bad_fields_are_named()
    {
        var ann = TestUsers.WithRoles("Ann", PortalRoles.Contributor);
        var vault = await TestPortal.For(database, ann).Vaults().CreateAsync(new CreateVaultRequest("geo", "east"));
        var good = new ReplicationLimitsRequest("8", "", Weekdays, "08:00", "18:00", "Europe/Berlin");
        foreach (var role in new[] { PortalRoles.Operator, PortalRoles.Reader, PortalRoles.RestoreOperator })
        {
            await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Limits(TestUsers.WithRoles("Someone", role)).SaveAsync(vault.Id, good));
            await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Limits(TestUsers.WithRoles("Someone", role)).ResetAsync(vault.Id));
        }

        var invalid = await Assert.ThrowsAsync<PortalValidationException>(() =>
            Limits(ann).SaveAsync(vault.Id, new ReplicationLimitsRequest("fast", "0.01", [], "18:00", "8 am", "Mars/Olympus")));
        Assert.Equal(["OtherHoursMbps", "TimeZone", "WorkEnd", "WorkHoursMbps"], invalid.Errors.Keys.Order());
        Assert.StartsWith("Enter the limit during work hours in megabits per second as a number such as 8 or 0.5", invalid.Errors["WorkHoursMbps"]);
        Assert.StartsWith("A limit at other times is from 0.064 Mbps (8 KB/s)", invalid.Errors["OtherHoursMbps"]);
        Assert.Equal("Enter a time of day such as 18:00 (24-hour clock).", invalid.Errors["WorkEnd"]);
        Assert.Contains("is not a time zone this server knows", invalid.Errors["TimeZone"]);
        Assert.Equal("Work hours end after they start: 08:00 is not after 18:00.",
            (await Assert.ThrowsAsync<PortalValidationException>(() => Limits(ann).SaveAsync(vault.Id, good with { WorkStart = "18:00", WorkEnd = "08:00" }))).Errors["WorkEnd"]);
        Assert.Equal("Choose at least one work day, or leave the work-hours limit empty.",
            (await Assert.ThrowsAsync<PortalValidationException>(() => Limits(ann).SaveAsync(vault.Id, good with { WorkDays = [] }))).Errors["WorkDays"]);
        Assert.False((await Limits(ann).GetAsync(vault.Id)).SetInPortal); // nothing was saved

        await Limits(ann).SaveAsync(vault.Id, good);
        var view = await Limits(TestUsers.WithRoles("Rita", PortalRoles.Reader)).GetAsync(vault.Id);
        Assert.Equal((true, "Ann", "west"), (view.SetInPortal, view.ChangedBy, view.Pair));
        Assert.Equal("at most 8 Mbps during work hours (Monday to Friday, 08:00–18:00 Europe/Berlin), no limit at other times.", view.InForce.Describe());
        await Limits(ann).ResetAsync(vault.Id);
        Assert.False((await Limits(ann).GetAsync(vault.Id)).SetInPortal);

        await using var db = database.Factory.CreateDbContext();
        var rows = await db.AuditEntries.Where(a => a.Action == AuditActions.VaultReplicationThrottling).OrderBy(a => a.At).ToListAsync();
        Assert.Equal(6, rows.Count(r => r.Outcome == AuditOutcome.Refused)); // the six refusals by role; typos are not audit events
        var changes = rows.Where(r => r.Outcome == AuditOutcome.Succeeded).ToList();
        Assert.Equal(2, changes.Count);
        Assert.Equal("vault/geo", changes[0].Resource);
        Assert.Equal("appsettings' defaults → at most 8 Mbps during work hours (Monday to Friday, 08:00–18:00 Europe/Berlin), no limit at other times.", changes[0].Detail);
        Assert.EndsWith("→ appsettings' defaults", changes[1].Detail);
    }
}
