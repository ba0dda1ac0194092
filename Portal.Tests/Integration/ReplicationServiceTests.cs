using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Regions;
using Portal.Features.Replication;
using Portal.Features.Vaults;
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

    private (ReplicationService Service, RegionStores Stores, ReplicationStatus Status) Build()
    {
        var options = TestRegions.Options();
        options.Root = root;
        var stores = new RegionStores(Options.Create(options), NullLogger<RegionStores>.Instance);
        var status = new ReplicationStatus();
        var cancellation = new JobCancellation();
        jobs = new JobService(database.Factory, new JobNotifier(), cancellation, clock);
        var replication = new ReplicationJob(stores, status, Options.Create(new ReplicationOptions()), clock);
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
}
