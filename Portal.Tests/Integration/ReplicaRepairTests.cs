using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Portal.Engine.Replication;
using Portal.Engine.Storage;
using Portal.Features.Alerts;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;
using Portal.Features.Regions;
using Portal.Features.Replication;
using Portal.Features.Vaults;
using Portal.Tests.Engine.Storage;
using Portal.Tests.Infrastructure;
using Quartz;

namespace Portal.Tests.Integration;

/// <summary>
/// LRS upkeep in the portal: copies a degraded write missed are journaled in PostgreSQL and repaired after a restart;
/// the scheduled scrub heals damaged copies on disk, records what it found and raises an alert for data no replica holds.
/// </summary>
public sealed class ReplicaRepairTests : IAsyncLifetime
{
    private readonly TestDatabase database = new();
    private readonly string root = Directory.CreateTempSubdirectory("portal-repair-").FullName;

    public Task InitializeAsync() => database.InitializeAsync();

    public async Task DisposeAsync()
    {
        await database.DisposeAsync();
        Directory.Delete(root, recursive: true);
    }

    private string Regions => Path.Combine(root, "regions");

    /// <summary>The replica folders of east, in configuration order.</summary>
    private IReadOnlyList<string> East => [.. TestRegions.Region("east", "west").Replicas.Select(r => Path.Combine(Regions, r.Path!))];

    /// <summary>One portal instance's services over the shared database and region folders (a new one is a restart).</summary>
    private ServiceProvider Instance()
    {
        var storage = TestRegions.Options();
        storage.Root = Regions;
        var services = new ServiceCollection().AddFeatureServices(database);
        services.AddSingleton(Options.Create(storage));
        services.AddSingleton(Options.Create(new ReplicationOptions()));
        services.AddSingleton<RepairJournals>();
        services.AddSingleton<RegionStores>();
        services.AddSingleton<RepairService>();
        return services.BuildServiceProvider();
    }

    private static (string Name, byte[] Data) Pack(int seed)
    {
        var data = new byte[20_000];
        new Random(seed).NextBytes(data);
        var hash = Convert.ToHexStringLower(SHA256.HashData(data));
        return ($"data/{hash[..2]}/{hash}", data);
    }

    private static void FlipABit(string file)
    {
        var bytes = File.ReadAllBytes(file);
        bytes[bytes.Length / 2] ^= 0x10;
        File.WriteAllBytes(file, bytes);
    }

    private async Task<VaultDetails> CreateVaultAsync(string name) =>
        await TestPortal.For(database, TestUsers.WithRoles("Ann", PortalRoles.Contributor)).Vaults()
            .CreateAsync(new CreateVaultRequest(name, "east", StorageRedundancy.LRS));

    [Fact]
    public void A_scrub_schedule_that_is_not_a_Quartz_cron_is_named_at_start()
    {
        var options = TestRegions.Options();
        options.ScrubCron = "weekly";

        var result = new StorageOptionsValidator().Validate(null, options);

        Assert.Contains("Storage:ScrubCron (\"weekly\") is not a valid Quartz cron expression, e.g. \"0 0 2 ? * SUN\" (Sundays at 02:00 UTC).", result.Failures!);
        Assert.True(new StorageOptionsValidator().Validate(null, TestRegions.Options()).Succeeded);
    }

    [Fact]
    public async Task A_copy_a_degraded_write_missed_is_repaired_after_a_restart_and_leaves_the_journal_empty()
    {
        var (pack, data) = Pack(1);
        var name = $"vaults/{Guid.NewGuid():N}/{pack}";
        foreach (var folder in East)
            Directory.CreateDirectory(folder);

        await using (var before = Instance())
        {
            // The instance before the restart: replica 2 of east fails every call (a full disk, a container down).
            var replicas = East.Select(f => new FaultyStore(new LocalDirectoryStore(f))).ToList();
            replicas[1].Down = true;
            var store = new ReplicatedStore(replicas, before.GetRequiredService<RepairJournals>().For("east"));
            await store.PutAsync(name, data);
            Assert.Equal(0, await store.RepairPendingAsync()); // still down: the repair fails and stays recorded
        }

        await using (var db = await database.Factory.CreateDbContextAsync())
        {
            var recorded = Assert.Single(await db.ReplicaRepairs.ToListAsync());
            Assert.Equal(("east", 1, name), (recorded.Region, recorded.Replica, recorded.ObjectName));
            Assert.Contains("put failed", recorded.Reason);
            Assert.Equal(1, recorded.Attempts);
            Assert.Contains("unreachable", recorded.LastError);
        }
        Assert.False(File.Exists(Path.Combine(East[1], name)));

        await using var after = Instance(); // the restart: new stores, nothing in memory, the same database
        Assert.Equal(1, await after.GetRequiredService<RepairService>().RunOnceAsync(default));

        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(East[1], name)));
        await using (var db = await database.Factory.CreateDbContextAsync())
            Assert.Empty(await db.ReplicaRepairs.ToListAsync());
        Assert.Equal(0, await after.GetRequiredService<RepairService>().RunOnceAsync(default));
    }

    [Fact]
    public async Task An_operator_scrubs_a_GRS_vaults_regions_now_a_reader_may_not_and_a_second_request_waits_for_the_first()
    {
        await using var host = await ProtectionHost.StartAsync(database, root, configure: s => s.AddPortalReplicaRepair(),
            settings: new Dictionary<string, string?> { ["Jobs:MaxConcurrentJobs"] = "0" }); // queued, so the second request finds them waiting
        var vault = await TestPortal.For(database, TestUsers.WithRoles("Ann", PortalRoles.Contributor)).Vaults()
            .CreateAsync(new CreateVaultRequest("geo", "east", StorageRedundancy.GRS));
        ScrubRequests As(string name, string role) => host.ActAs(TestUsers.WithRoles(name, role)).GetRequiredService<ScrubRequests>();

        await Assert.ThrowsAsync<Portal.Features.Common.PortalAccessDeniedException>(() => As("Rita", PortalRoles.Reader).ScrubVaultRegionsAsync(vault.Id));
        var jobs = await As("Olga", PortalRoles.Operator).ScrubVaultRegionsAsync(vault.Id);
        var again = await Assert.ThrowsAsync<Portal.Features.Common.PortalConflictException>(() => As("Olga", PortalRoles.Operator).ScrubVaultRegionsAsync(vault.Id));

        Assert.Equal(["region east", "region west"], jobs.Select(j => j.Subject).Order());
        Assert.All(jobs, j => Assert.Equal((JobKind.Scrub, JobStatus.Queued, "Olga"), (j.Kind, j.Status, j.StartedBy)));
        Assert.Contains("already queued or running", again.Message);
        await using var db = await database.Factory.CreateDbContextAsync();
        var audit = await db.AuditEntries.Where(e => e.Action == Portal.Features.Audit.AuditActions.VaultScrub).OrderBy(e => e.Id).Select(e => new { e.ActorName, e.Outcome }).ToListAsync();
        Assert.Equal([("Rita", Portal.Features.Audit.AuditOutcome.Refused), ("Olga", Portal.Features.Audit.AuditOutcome.Succeeded), ("Olga", Portal.Features.Audit.AuditOutcome.Refused)],
            audit.Select(a => (a.ActorName, a.Outcome)));
    }

    [Fact]
    public async Task The_scheduled_scrub_heals_a_bit_flipped_replica_file_and_records_its_findings()
    {
        await using var host = await ProtectionHost.StartAsync(database, root, configure: s => s.AddPortalReplicaRepair());
        var vault = await CreateVaultAsync("payroll");
        var (pack, data) = Pack(2);
        await host.Services.GetRequiredService<RegionStores>().Vault(vault.Id, "east").PutAsync(pack, data);
        var damaged = Path.Combine(East[1], RegionStores.VaultPrefix(vault.Id), pack);
        FlipABit(damaged);

        // What the weekly trigger does when it fires: the scrub job of every region, through Quartz.
        var finished = new TaskCompletionSource<Job>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task OnChanged(Job job)
        {
            if (job is { Kind: JobKind.Scrub, Subject: "region east" } && job.Status.IsFinished())
                finished.TrySetResult(job);
            return Task.CompletedTask;
        }

        var notifier = host.Services.GetRequiredService<JobNotifier>();
        var subscription = notifier.Subscribe(JobTopic.All, OnChanged);
        try
        {
            await host.Services.GetServices<IHostedService>().OfType<CronSchedule<ScrubJob>>().Single().EnsureAsync(default);
            var scheduler = await host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
            var trigger = Assert.IsAssignableFrom<ICronTrigger>(await scheduler.GetTrigger(new TriggerKey("scrub", ScrubJob.Key.Group)));
            Assert.Equal(new StorageOptions().ScrubCron, trigger.CronExpressionString);
            await scheduler.TriggerJob(ScrubJob.Key);
            var job = await finished.Task.WaitAsync(TimeSpan.FromSeconds(60));

            Assert.Equal(JobStatus.Completed, job.Status);
            Assert.Equal("Compared 1 object(s) across 3 replicas of east: healed 1 of 1 missing or damaged copies.", job.Message);
        }
        finally
        {
            subscription.Dispose();
        }

        Assert.Equal(data, await File.ReadAllBytesAsync(damaged));
        await using var db = await database.Factory.CreateDbContextAsync();
        var scrub = await db.RegionScrubs.SingleAsync(s => s.Region == "east");
        Assert.Equal((1, 1, 1), (scrub.Objects, scrub.Issues, scrub.Healed));
        Assert.Empty(scrub.Lost);
        Assert.Empty(scrub.UnreachableReplicas);
    }

    [Fact]
    public async Task An_object_damaged_in_every_replica_raises_a_critical_alert_on_its_vault_until_a_scrub_finds_a_good_copy()
    {
        var vault = await CreateVaultAsync("finance");
        await using var portal = Instance();
        var (pack, data) = Pack(3);
        await portal.GetRequiredService<RegionStores>().Vault(vault.Id, "east").PutAsync(pack, data);
        var name = $"{RegionStores.VaultPrefix(vault.Id)}/{pack}";
        foreach (var folder in East)
            FlipABit(Path.Combine(folder, name));

        var jobId = await portal.GetRequiredService<ScrubRunner>().RunAsync("east", "schedule", default);

        await using (var db = await database.Factory.CreateDbContextAsync())
        {
            var job = await db.Jobs.SingleAsync(j => j.Id == jobId);
            Assert.Equal(JobStatus.CompletedWithWarnings, job.Status);
            Assert.Contains("1 object(s) have no good copy on any reachable replica", job.Message);
            var alert = await db.Alerts.SingleAsync(a => a.Kind == AlertKinds.ReplicaDataLost);
            Assert.Equal((AlertState.Active, AlertSeverity.Critical, vault.Id, "finance"), (alert.State, alert.Severity, alert.VaultId, alert.VaultName));
            Assert.Contains(name, alert.Cause);
            Assert.Contains("Check structure and read all data", alert.NextStep);
            Assert.Equal([name], (await db.RegionScrubs.SingleAsync(s => s.Region == "east")).Lost);
        }

        // A replica comes back with a good copy (a disk swapped back in): the next scrub heals the others and resolves the alert.
        await File.WriteAllBytesAsync(Path.Combine(East[2], name), data);
        await portal.GetRequiredService<ScrubRunner>().RunAsync("east", "schedule", default);

        await using (var db = await database.Factory.CreateDbContextAsync())
        {
            var alert = await db.Alerts.SingleAsync(a => a.Kind == AlertKinds.ReplicaDataLost);
            Assert.Equal((AlertState.Resolved, AlertService.Automatically), (alert.State, alert.ResolvedBy));
        }
        foreach (var folder in East)
            Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(folder, name)));
    }
}
