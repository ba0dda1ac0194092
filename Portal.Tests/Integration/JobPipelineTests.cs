using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Portal.Features.Audit;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Policies;
using Portal.Features.Protection;
using Portal.Features.Restore;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;
using Quartz;

namespace Portal.Tests.Integration;

/// <summary>
/// The job pipeline as an operator relies on it: a queued job always runs, every kind explains its failures in its
/// own words, and a job whose portal instance dies is finished by another instance, once.
/// </summary>
public sealed class JobPipelineTests : IAsyncLifetime
{
    private const string Passphrase = "correct horse battery staple";
    private readonly TestDatabase database = new();
    private readonly string root = Directory.CreateTempSubdirectory("portal-pipeline-").FullName;
    private readonly System.Security.Claims.ClaimsPrincipal ann = TestUsers.WithRoles("Ann", PortalRoles.Contributor);

    public Task InitializeAsync() => database.InitializeAsync();

    public async Task DisposeAsync()
    {
        await database.DisposeAsync();
        Directory.Delete(root, recursive: true);
    }

    /// <summary>Short leases, so that a dead instance's job is taken over in seconds rather than a minute.</summary>
    private static readonly Dictionary<string, string?> QuickTakeover = new()
    {
        ["Jobs:HeartbeatInterval"] = "00:00:01", ["Jobs:LeaseTimeout"] = "00:00:03", ["Jobs:SweepInterval"] = "00:00:01", ["Jobs:PollInterval"] = "00:00:01",
    };

    private async Task<(Guid Vault, Guid Item, string Source)> ProtectAsync(ProtectionHost host, Action<string> fill)
    {
        var vault = await host.ActAs(ann).GetRequiredService<VaultService>().CreateAsync(new CreateVaultRequest("finance", "east", StorageRedundancy.LRS));
        var policy = (await host.ActAs(ann).GetRequiredService<PolicyService>().ListAsync(vault.Id)).Single();
        var source = Path.Combine(host.SourceRoot, "share");
        Directory.CreateDirectory(source);
        fill(source);
        var item = await host.Protection(ann).ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "share", source, null, null, Passphrase, Passphrase));
        return (vault.Id, item.Item.Id, source);
    }

    [Fact]
    public async Task Back_up_now_runs_without_the_scheduler_because_the_queued_job_row_is_what_runs()
    {
        await using var host = await ProtectionHost.StartAsync(database, root);
        var (_, item, _) = await ProtectAsync(host, s => File.WriteAllText(Path.Combine(s, "a.txt"), "figures"));
        // Quartz gone entirely: before the pipeline a "Back up now" was a one-shot trigger and would wait a day for the reaper.
        await (await host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler()).Shutdown();

        var job = await host.Protection(ann).BackUpNowAsync(item, DateTime.UtcNow.AddDays(30));

        var done = await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished());
        Assert.Equal(JobStatus.Completed, done.Status);
        Assert.Equal(1, done.Attempt);
    }

    [Fact]
    public async Task A_back_up_now_that_cannot_be_queued_leaves_no_queued_job_and_audits_the_failure()
    {
        await using var host = await ProtectionHost.StartAsync(database, root);
        var (_, item, _) = await ProtectAsync(host, s => File.WriteAllText(Path.Combine(s, "a.txt"), "figures"));
        await using (var connection = new NpgsqlConnection(database.ConnectionString))
        {
            await connection.OpenAsync();
            await using var refuse = new NpgsqlCommand("""
                CREATE FUNCTION refuse_jobs() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'queue unavailable'; END $$;
                CREATE TRIGGER refuse_jobs BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION refuse_jobs();
                """, connection);
            await refuse.ExecuteNonQueryAsync();
        }

        await Assert.ThrowsAnyAsync<Exception>(() => host.Protection(ann).BackUpNowAsync(item, DateTime.UtcNow.AddDays(30)));

        await using var db = database.Factory.CreateDbContext();
        Assert.Equal(0, await db.Jobs.CountAsync());
        var audit = await db.AuditEntries.Where(e => e.Action == AuditActions.ItemBackupNow).ToListAsync();
        Assert.Equal([AuditOutcome.Failed], audit.Select(e => e.Outcome)); // the success row rolled back with the job
    }

    [Fact]
    public async Task Each_kind_of_job_explains_its_failure_in_its_own_words()
    {
        // The test's host queues; a second instance, started when everything is in place, runs the jobs.
        await using var host = await ProtectionHost.StartAsync(database, root, settings: new Dictionary<string, string?> { ["Jobs:MaxConcurrentJobs"] = "0" });
        var (vault, item, source) = await ProtectProtectedAsync(host);
        var point = (await host.ActAs(ann).GetRequiredService<RestoreService>().ListPointsAsync(item))[0];
        var target = Path.Combine(host.RestoreRoot, "out");
        var restore = await host.ActAs(ann).GetRequiredService<RestoreService>().StartAsync(
            new FileRestoreRequest(item, point.Id, [], RestoreDestination.AlternateLocation, target, RestoreConflictOption.Skip));
        File.WriteAllText(target, "a file where the restore's folder goes"); // after the plan's checks, before the restore runs
        Directory.Delete(source, recursive: true);
        var backup = await host.Protection(ann).BackUpNowAsync(item, DateTime.UtcNow.AddDays(30));

        await using (await ProtectionHost.StartAsync(database, root))
        {
            var failedRestore = await host.WaitForJobAsync(restore.Id, j => j.Status.IsFinished());
            var failedBackup = await host.WaitForJobAsync(backup.Id, j => j.Status.IsFinished());
            foreach (var pack in Directory.EnumerateFiles(Path.Combine(root, "regions", "east"), "*", SearchOption.AllDirectories).Where(f => f.Contains("/data/")))
                File.Delete(pack);
            var check = await host.WaitForJobAsync((await host.Protection(ann).CheckVaultAsync(vault, readData: false)).Id, j => j.Status.IsFinished());

            Assert.Equal(JobStatus.Failed, failedRestore.Status);
            Assert.StartsWith($"Writing to {target} failed", failedRestore.Message);
            Assert.Contains("restore again with \"skip\"", failedRestore.Message);
            Assert.Equal(JobStatus.Failed, failedBackup.Status);
            Assert.StartsWith($"The folder {source} does not exist on the portal host", failedBackup.Message);
            Assert.Equal(JobStatus.Failed, check.Status);
            Assert.Contains("damaged or missing object(s)", check.Message);
        }

        await using var db = database.Factory.CreateDbContext();
        Assert.Equal(JobStatus.Failed, (await db.BackupItems.SingleAsync(i => i.Id == item)).LastBackupStatus);
    }

    /// <summary>A protected item with one recovery point, made by an instance that runs jobs while the caller's host does not.</summary>
    private async Task<(Guid Vault, Guid Item, string Source)> ProtectProtectedAsync(ProtectionHost host)
    {
        var protectedItem = await ProtectAsync(host, s => File.WriteAllText(Path.Combine(s, "a.txt"), "figures"));
        await using var runner = await ProtectionHost.StartAsync(database, root);
        var job = await host.Protection(ann).BackUpNowAsync(protectedItem.Item, DateTime.UtcNow.AddDays(30));
        Assert.Equal(JobStatus.Completed, (await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished())).Status);
        return protectedItem;
    }

    [Fact]
    public async Task A_backup_whose_portal_process_is_killed_is_finished_by_another_process_with_exactly_one_recovery_point()
    {
        // The test's own host queues and watches; only the two portal processes run jobs.
        // A lease of 8 s, not 3: with the whole suite on two cores, a live process's heartbeat was once late by more than 3 s
        // and its attempt was taken over too (attempt 3). Only the killed process may lose its job here.
        var takeover = new Dictionary<string, string?>(QuickTakeover) { ["Jobs:LeaseTimeout"] = "00:00:08" };
        await using var host = await ProtectionHost.StartAsync(database, root, settings: new Dictionary<string, string?>(takeover) { ["Jobs:MaxConcurrentJobs"] = "0" });
        const int Files = 3, FileBytes = 16 * 1024 * 1024;
        var (vault, item, _) = await ProtectAsync(host, s =>
        {
            for (var i = 0; i < Files; i++)
                File.WriteAllBytes(Path.Combine(s, $"disk-{i}.img"), RandomNumberGenerator.GetBytes(FileBytes)); // incompressible: each file about one pack
        });
        // Uploads to east at 4 MB/s: the backup takes long enough to be killed in the middle, after its first pack is stored.
        var settings = takeover.ToDictionary(s => s.Key.Replace(":", "__"), s => s.Value!);
        settings["Storage__Regions__0__Throttling__WorkHoursMbps"] = "32";
        settings["Storage__Regions__0__Throttling__NonWorkHoursMbps"] = "32";
        await using var a = await PortalProcess.StartAsync(database, root, settings);
        await using var b = await PortalProcess.StartAsync(database, root, settings);

        var job = await host.Protection(ann).BackUpNowAsync(item, DateTime.UtcNow.AddDays(30));
        var running = await host.WaitForJobAsync(job.Id, j => j.Status == JobStatus.InProgress && j.RunBy is not null);
        // Stored means in every replica: a pack in only one of three is not yet a write the next attempt can count on.
        string[] replicas = [.. Enumerable.Range(1, 3).Select(r => Path.Combine(root, "regions", "east", r.ToString(), "vaults", vault.ToString("N"), "data"))];
        await WaitUntilAsync(() => StoredPacks(replicas).Count > 0, "a first pack is stored in every replica");
        var (victim, survivor) = running.RunBy!.Split('/')[2] == a.Id.ToString() ? (a, b) : (b, a);
        Assert.Contains($"/{victim.Id}/", running.RunBy);
        await victim.KillAsync();

        var done = await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished(), TimeSpan.FromSeconds(120));

        Assert.True(done.Status == JobStatus.Completed, $"{done.Status}: {done.Message}\n{survivor.Output}");
        Assert.Equal(2, done.Attempt);
        Assert.Contains($"/{survivor.Id}/", done.RunBy);
        await using var db = database.Factory.CreateDbContext();
        var point = await db.RecoveryPoints.SingleAsync(p => p.ItemId == item);
        Assert.Equal(job.Id, point.JobId);
        Assert.Equal(Files, point.Files);
        Assert.True(point.BytesAdded < (long)Files * FileBytes, $"the second attempt added {point.BytesAdded} bytes: the packs stored by the first were not reused");
        using (var engine = await host.Services.GetRequiredService<VaultKeys>().OpenAsync(vault, "finance", "east"))
            Assert.Single(await engine.ListSnapshotsAsync());
        var log = await db.JobLog.Where(e => e.JobId == job.Id).OrderBy(e => e.Id).Select(e => e.Text).ToListAsync();
        Assert.Contains(log, l => l.Contains("stopped answering") && l.Contains("takes it over"));
        Assert.Contains(log, l => l.StartsWith("Attempt 2 started"));
    }

    [Fact]
    public async Task A_restore_taken_over_from_a_silent_instance_keeps_the_files_already_restored_and_the_silent_one_cannot_finish_it()
    {
        await using var host = await ProtectionHost.StartAsync(database, root, settings: new Dictionary<string, string?>(QuickTakeover) { ["Jobs:MaxConcurrentJobs"] = "0" });
        var (vault, item, _) = await ProtectAsync(host, s =>
        {
            for (var i = 0; i < 20; i++)
                File.WriteAllText(Path.Combine(s, $"letter-{i:D2}.txt"), $"letter {i}");
        });
        await using (var runner = await ProtectionHost.StartAsync(database, root))
            Assert.Equal(JobStatus.Completed, (await host.WaitForJobAsync((await host.Protection(ann).BackUpNowAsync(item, DateTime.UtcNow.AddDays(30))).Id,
                j => j.Status.IsFinished())).Status);
        var point = (await host.ActAs(ann).GetRequiredService<RestoreService>().ListPointsAsync(item))[0];
        var target = Path.Combine(host.RestoreRoot, "letters");
        var job = await host.ActAs(ann).GetRequiredService<RestoreService>().StartAsync(
            new FileRestoreRequest(item, point.Id, [], RestoreDestination.AlternateLocation, target, RestoreConflictOption.Overwrite));

        // An instance claims the restore, restores the first half and goes silent (as a killed process does).
        var lease = (await host.Jobs.ClaimAsync("portal/lost-host/4242/0000", ["restore-files"], CancellationToken.None))!.Lease;
        using (var engine = await host.Services.GetRequiredService<VaultKeys>().OpenAsync(vault, "finance", "east"))
            await engine.RestoreAsync(new Portal.Engine.Operations.RestoreRequest(point.SnapshotId, target) { Include = [.. Enumerable.Range(0, 10).Select(i => $"letter-{i:D2}.txt")] });
        var kept = Directory.GetFiles(target).ToDictionary(f => f, f => Portal.Engine.Platform.Native.TryLStat(f)!.Value.Inode);

        await using var survivor = await ProtectionHost.StartAsync(database, root, settings: QuickTakeover);
        var done = await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished(), TimeSpan.FromSeconds(60));

        Assert.True(done.Status == JobStatus.Completed, $"{done.Status}: {done.Message}");
        Assert.Equal(2, done.Attempt);
        Assert.Contains("kept 10 already restored (same size and content)", done.Message);
        Assert.Equal(20, Directory.GetFiles(target).Length);
        foreach (var (file, inode) in kept)
            Assert.Equal(inode, Portal.Engine.Platform.Native.TryLStat(file)!.Value.Inode); // not rewritten
        Assert.Equal((done.FilesTotal, done.BytesTotal), (done.FilesDone, (long?)done.BytesDone)); // the final report passed the throttle
        // The silent instance comes back: its reports and its outcome no longer touch the job.
        Assert.Equal(Portal.Features.Jobs.Pipeline.JobControl.Lost,
            await host.Jobs.ReportAsync(lease, new JobProgressReport("Restoring files", 1, 2, 1, 2), CancellationToken.None));
        Assert.False(await host.Jobs.FinishAsync(lease, Portal.Features.Jobs.Pipeline.JobOutcome.Failed("late"), CancellationToken.None));
        Assert.Equal(JobStatus.Completed, (await host.Jobs.GetAsync(job.Id, CancellationToken.None))!.Status);
    }

    [Fact]
    public async Task A_database_restore_whose_instance_died_is_not_resumed_and_fails_in_its_own_words()
    {
        await using var host = await ProtectionHost.StartAsync(database, root, settings: new Dictionary<string, string?>(QuickTakeover) { ["Jobs:MaxConcurrentJobs"] = "0" });
        var input = new Portal.Features.Workloads.QueuedDatabaseRestore(
            new Portal.Features.Workloads.DatabaseRestoreRequest(Guid.NewGuid(), Guid.NewGuid(), Portal.Features.Workloads.DatabaseRestoreTarget.NewDatabase, "sales_copy"),
            "0123456789abcdef", Guid.NewGuid());
        var job = await host.Services.GetRequiredService<Portal.Features.Jobs.Pipeline.JobPipeline>().EnqueueAsync(
            host.Services.GetRequiredService<Portal.Features.Workloads.DatabaseRestoreJob>(), input, new Portal.Features.Jobs.Pipeline.JobTarget(null, "finance", null, "sales → sales_copy"), "Helen");
        await host.Jobs.ClaimAsync("portal/lost-host/4242/0000", ["restore-database"], CancellationToken.None); // and never heard of again

        var failed = await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished());

        Assert.Equal((JobStatus.Failed, 1), (failed.Status, failed.Attempt));
        Assert.StartsWith("The portal instance running this job stopped answering", failed.Message);
        Assert.Contains("If the new database sales_copy still exists, it is empty or partly restored: drop it, then restore again.", failed.Message);
        Assert.DoesNotContain("backup", failed.Message, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The packs present in every one of <paramref name="replicas"/> (their data folders).</summary>
    private static HashSet<string> StoredPacks(string[] replicas)
    {
        HashSet<string>? common = null;
        foreach (var replica in replicas)
        {
            var names = Directory.Exists(replica)
                ? Directory.EnumerateFiles(replica, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(replica, f)).Where(f => !Path.GetFileName(f).StartsWith('#')).ToHashSet() // '#tmp-…' is an upload in progress
                : [];
            common = common is null ? names : [.. common.Intersect(names)];
        }

        return common ?? [];
    }

    /// <summary>Waits for a condition of the file system (which tells no one when it changes), looking every 50 ms.</summary>
    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!condition())
        {
            if (timeout.IsCancellationRequested)
                throw new TimeoutException($"Waited 60 s for: {what}");
            await Task.Delay(50);
        }
    }
}
