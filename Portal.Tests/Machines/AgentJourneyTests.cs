using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Features.Attach;
using Portal.Features.Common;
using Portal.Features.Drills;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Machines;
using Portal.Features.Machines.Administration;
using Portal.Features.Policies;
using Portal.Features.Protection;
using Portal.Features.Regions;
using Portal.Features.Restore;
using Portal.Features.Vaults;
using Portal.Features.Verification;
using Portal.Tests.Agent;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Machines;

/// <summary>
/// Machines end to end, with real processes: the portal on Kestrel, two agents (each with its own state folder) that
/// register with a credentials file, connect out over SignalR and back up and restore through the portal's append-only
/// store endpoint. The test's own host plays the operator (the services the pages call) and runs no jobs.
/// </summary>
public sealed class AgentJourneyTests : IAsyncLifetime
{
    private const string Passphrase = "machine passphrase of web-01";
    private readonly TestDatabase database = new();
    private readonly TestDatabase after = new(); // the empty database of a portal that lost its catalog
    private readonly string root = Directory.CreateTempSubdirectory("portal-agents-").FullName;
    private readonly System.Security.Claims.ClaimsPrincipal ann = TestUsers.WithRoles("Ann", PortalRoles.Contributor);
    private readonly System.Security.Claims.ClaimsPrincipal olga = TestUsers.WithRoles("Olga", PortalRoles.Operator);
    private readonly List<Process> agents = [];
    private readonly Dictionary<Process, StringBuilder> agentLogs = [];

    /// <summary>Quick heartbeats and a short lease, so a silent machine is noticed in seconds.</summary>
    private static readonly Dictionary<string, string?> Quick = new()
    {
        ["Jobs:HeartbeatInterval"] = "00:00:01", ["Jobs:LeaseTimeout"] = "00:00:05", ["Jobs:SweepInterval"] = "00:00:01", ["Jobs:PollInterval"] = "00:00:01",
        ["Jobs:MaxConcurrentJobs"] = "0",
    };

    public Task InitializeAsync() => database.InitializeAsync();

    public async Task DisposeAsync()
    {
        foreach (var agent in agents)
        {
            if (!agent.HasExited)
                agent.Kill(entireProcessTree: true);
            await agent.WaitForExitAsync();
            agent.Dispose();
        }

        await database.DisposeAsync();
        await after.DisposeAsync();
        Directory.Delete(root, recursive: true);
    }

    [Fact]
    public async Task Two_machines_register_back_up_through_the_portal_and_restore_to_themselves_and_to_each_other()
    {
        await using var host = await ProtectionHost.StartAsync(database, root, settings: Quick);
        await using var portal = await PortalProcess.StartAsync(database, root, Settings(Quick));
        var vault = await host.ActAs(ann).GetRequiredService<VaultService>().CreateAsync(new CreateVaultRequest("estate", "east", StorageRedundancy.LRS));
        var web = await RegisterAsync(host, portal, vault.Id, "web-01");
        var db1 = await RegisterAsync(host, portal, vault.Id, "db-01");
        var drillRoot = Path.Combine(root, "web-01", "drills"); // the agent's own Restore:DrillRoot
        // web-01's agent lets the portal back up and browse its /srv only (--source-root, here by its environment variable).
        var srv = Directory.CreateDirectory(Path.Combine(root, "web-01", "srv")).FullName;
        var webAgent = StartAgent(web.State, new Dictionary<string, string> { ["Restore__DrillRoot"] = drillRoot, ["PORTAL_AGENT_SOURCE_ROOTS"] = srv });
        StartAgent(db1.State);
        await WaitOnlineAsync(host, web.Id, db1.Id);

        // A folder on web-01 (the test stands in for its disk) protected from the portal: no vault passphrase is asked.
        var source = Directory.CreateDirectory(Path.Combine(root, "web-01", "srv", "share")).FullName;
        File.WriteAllText(Path.Combine(source, "report.txt"), "quarterly figures");
        File.WriteAllBytes(Path.Combine(source, "data.bin"), Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray());
        await TheFolderPickerBrowsesTheMachineAsync(host, web.Id, srv, source);
        var policy = (await host.ActAs(ann).GetRequiredService<PolicyService>().ListAsync(vault.Id)).Single();
        // Its pre-script is silent for longer than the 5-second lease: the agent heartbeats as often as the portal asks
        // (1 second here), so the job lives through it (an agent keeping its own 15-second default failed it).
        var item = await host.Protection(ann).ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "web-01 share", source,
            Scripts: new ScriptSettings("sleep 7", null), MachineId: web.Id));
        Assert.Equal("web-01", item.Item.MachineName);

        var job = await host.Protection(ann).BackUpNowAsync(item.Item.Id, DateTime.UtcNow.AddDays(30));
        var done = await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished(), TimeSpan.FromSeconds(120));
        Assert.True(done.Status == JobStatus.Completed, $"{done.Status}: {done.Message}\n{portal.Output}");
        Assert.Equal(JobExecutors.Machine(web.Id), done.RunBy);
        Assert.Equal(2, done.FilesDone);
        await using (var db = database.Factory.CreateDbContext())
        {
            var point = await db.RecoveryPoints.SingleAsync(p => p.ItemId == item.Item.Id);
            Assert.Equal(2, point.Files);
            Assert.Equal(JobStatus.Completed, (await db.BackupItems.SingleAsync(i => i.Id == item.Item.Id)).LastBackupStatus);
        }

        // A restore drill of the machine's item runs on the machine: the point restored into the agent's drill root,
        // checked against the listing, deleted again, and the evidence recorded by the portal.
        var drills = host.ActAs(ann).GetRequiredService<DrillService>();
        var drill = await drills.RunNowAsync(item.Item.Id);
        var drillDone = await host.WaitForJobAsync(drill.Id, j => j.Status.IsFinished(), TimeSpan.FromSeconds(60));
        Assert.True(drillDone.Status == JobStatus.Completed, $"{drillDone.Status}: {drillDone.Message}\n{portal.Output}");
        Assert.Equal((JobKind.Drill, JobExecutors.Machine(web.Id)), (drillDone.Kind, drillDone.RunBy));
        Assert.Contains($"whole on web-01 (in {Path.Combine(drillRoot, $"drill-{drill.Id:N}")}, deleted again): 2 file(s)", drillDone.Message);
        var proven = Assert.Single(await drills.ListAsync(item.Item.Id));
        Assert.Equal((DrillResult.Passed, 2L, 300_000L + "quarterly figures".Length), (proven.Result, proven.FilesVerified, proven.BytesVerified));
        Assert.Empty(Directory.GetFileSystemEntries(drillRoot));

        // The machine's data is in its own repository in the vault, nothing in the vault's own.
        var repository = Path.Combine(root, "regions", "east", "1", "vaults", vault.Id.ToString("N"), "machines", web.Id.ToString("N"));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(repository, "snapshots")));
        Assert.False(File.Exists(Path.Combine(root, "regions", "east", "1", "vaults", vault.Id.ToString("N"), "config")));

        // Restore to the original location as copies, on web-01 itself.
        var restores = host.ActAs(ann).GetRequiredService<RestoreService>();
        var pointId = (await restores.ListPointsAsync(item.Item.Id)).Single().Id;
        var own = await restores.StartAsync(new FileRestoreRequest(item.Item.Id, pointId, ["report.txt"], RestoreDestination.OriginalLocation, null,
            RestoreConflictOption.CreateCopy));
        var ownDone = await host.WaitForJobAsync(own.Id, j => j.Status.IsFinished(), TimeSpan.FromSeconds(60));
        Assert.True(ownDone.Status == JobStatus.Completed, $"{ownDone.Status}: {ownDone.Message}");
        Assert.Equal(JobExecutors.Machine(web.Id), ownDone.RunBy);
        var copy = Assert.Single(Directory.GetFiles(source, "*Copy of report.txt"));
        Assert.Equal("quarterly figures", File.ReadAllText(copy));

        // Restore onto the other machine (Azure's alternate-machine restore): db-01 reads web-01's backups for this job only.
        var elsewhere = Path.Combine(root, "db-01", "restores", "ticket-1234");
        var other = await restores.StartAsync(new FileRestoreRequest(item.Item.Id, pointId, [], RestoreDestination.AlternateLocation, elsewhere,
            RestoreConflictOption.CreateCopy, TargetMachineId: db1.Id));
        var otherDone = await host.WaitForJobAsync(other.Id, j => j.Status.IsFinished(), TimeSpan.FromSeconds(60));
        Assert.True(otherDone.Status == JobStatus.Completed, $"{otherDone.Status}: {otherDone.Message}");
        Assert.Equal(JobExecutors.Machine(db1.Id), otherDone.RunBy);
        Assert.Equal("quarterly figures", File.ReadAllText(Path.Combine(elsewhere, "report.txt")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(source, "data.bin")), File.ReadAllBytes(Path.Combine(elsewhere, "data.bin")));

        // Disaster recovery without the portal: the storage and the machine's passphrase are enough.
        var recovered = Path.Combine(root, "recovered");
        var cli = await RunCliAsync("restore", "--repo", repository, "--snapshot", "latest", "--target", recovered);
        Assert.True(cli.Code == 0, cli.Err);
        Assert.Equal("quarterly figures", File.ReadAllText(Path.Combine(recovered, "report.txt")));

        // web-01 goes off: its folder picker says so (the path can still be typed).
        webAgent.Kill(entireProcessTree: true);
        await webAgent.WaitForExitAsync();
        var directory = host.Services.GetRequiredService<IMachines>();
        await WaitUntilAsync(async () => await directory.FindAsync(web.Id, CancellationToken.None) is { Online: false }, "web-01 is offline");
        var offline = await Assert.ThrowsAsync<PortalValidationException>(() => host.ActAs(olga).GetRequiredService<SourceFolders>().ListAsync(srv, web.Id));
        Assert.Matches("^web-01 is offline since .+ UTC: its folders cannot be listed. Type the folder's path.$", offline.Errors["SourcePath"]);
    }

    /// <summary>
    /// Issue 21, the folder picker on a machine: the portal asks web-01's agent for one level of folders over its
    /// connection. The asking instance (this host) does not hold the connection (the portal process does): question and
    /// answer go between the instances through PostgreSQL. The agent lists inside its source root only and never offers
    /// a link out of it.
    /// </summary>
    private async Task TheFolderPickerBrowsesTheMachineAsync(ProtectionHost host, Guid machine, string srv, string share)
    {
        Directory.CreateDirectory(Path.Combine(share, "docs"));
        var secret = Directory.CreateDirectory(Path.Combine(root, "web-01", "etc-secret")).FullName;
        Directory.CreateSymbolicLink(Path.Combine(srv, "escape"), secret);
        Directory.CreateSymbolicLink(Path.Combine(srv, "current"), share);
        var folders = host.ActAs(olga).GetRequiredService<SourceFolders>();

        var top = await folders.ListAsync(null, machine);                         // the top: the agent's source roots
        Assert.Null(top.Path);
        Assert.Equal([srv], top.Folders);
        var atRoot = await folders.ListAsync(srv, machine);                       // the link out is not offered; the one inside is
        Assert.Equal([Path.Combine(srv, "current"), share], atRoot.Folders);
        Assert.Null(atRoot.Parent);                                                 // up from a root shows the roots
        var below = await folders.ListAsync(share + "/", machine);                 // normalised; files are not listed
        Assert.Equal(share, below.Path);
        Assert.Equal(srv, below.Parent);
        Assert.Equal([Path.Combine(share, "docs")], below.Folders);
        Directory.Delete(Path.Combine(share, "docs"));

        var outside = await Assert.ThrowsAsync<PortalValidationException>(() => folders.ListAsync(secret, machine));
        Assert.Contains("outside the folders this machine may back up", outside.Message);
        await Assert.ThrowsAsync<PortalValidationException>(() => folders.ListAsync(Path.Combine(srv, "escape"), machine));
        Assert.Contains("not an absolute path", (await Assert.ThrowsAsync<PortalValidationException>(() => folders.ListAsync("srv/share", machine))).Message);
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() =>
            host.ActAs(TestUsers.WithRoles("Rita", PortalRoles.Reader)).GetRequiredService<SourceFolders>().ListAsync(srv, machine));
    }

    [Fact]
    public async Task An_agent_killed_mid_backup_fails_the_job_with_its_silence_and_the_next_backup_reuses_what_it_uploaded()
    {
        await using var host = await ProtectionHost.StartAsync(database, root, settings: Quick);
        await using var portal = await PortalProcess.StartAsync(database, root, Settings(Quick));
        var vault = await host.ActAs(ann).GetRequiredService<VaultService>().CreateAsync(new CreateVaultRequest("estate", "east", StorageRedundancy.LRS));
        var web = await RegisterAsync(host, portal, vault.Id, "web-01");
        // Uploads limited to 4 MB/s (Azure's agent throttling): the backup of 48 MB lasts long enough to be killed in the middle.
        await host.ActAs(ann).GetRequiredService<MachineService>().SetUploadLimitsAsync(web.Id, 4096, 4096);
        var agent = StartAgent(web.State);
        await WaitOnlineAsync(host, web.Id);

        var source = Directory.CreateDirectory(Path.Combine(root, "web-01", "images")).FullName;
        for (var i = 0; i < 3; i++)
            File.WriteAllBytes(Path.Combine(source, $"disk-{i}.img"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(16 * 1024 * 1024));
        var policy = (await host.ActAs(ann).GetRequiredService<PolicyService>().ListAsync(vault.Id)).Single();
        var item = await host.Protection(ann).ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "images", source, MachineId: web.Id));
        var job = await host.Protection(ann).BackUpNowAsync(item.Item.Id, DateTime.UtcNow.AddDays(30));
        var packs = Path.Combine(root, "regions", "east", "1", "vaults", vault.Id.ToString("N"), "machines", web.Id.ToString("N"), "data");
        // A stored pack, not one still arriving (the portal streams an upload into a '#tmp-' file until its hash is checked).
        await WaitUntilAsync(() => Directory.Exists(packs) && Directory.EnumerateFiles(packs, "*", SearchOption.AllDirectories).Any(f => !Path.GetFileName(f).StartsWith('#')),
            "a first pack is stored");
        agent.Kill(entireProcessTree: true);
        await agent.WaitForExitAsync();

        var failed = await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished(), TimeSpan.FromSeconds(60));
        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.Contains("stopped answering", failed.Message);
        Assert.Contains("next backup reuses", failed.Message);
        await using (var db = database.Factory.CreateDbContext())
        {
            Assert.Empty(await db.RecoveryPoints.Where(p => p.ItemId == item.Item.Id).ToListAsync());
            Assert.Equal(JobStatus.Failed, (await db.BackupItems.SingleAsync(i => i.Id == item.Item.Id)).LastBackupStatus);
        }

        // The agent comes back (without limits now): the next backup adopts the packs the killed one stored.
        await host.ActAs(ann).GetRequiredService<MachineService>().SetUploadLimitsAsync(web.Id, null, null);
        StartAgent(web.State);
        await WaitOnlineAsync(host, web.Id);
        var again = await host.Protection(ann).BackUpNowAsync(item.Item.Id, DateTime.UtcNow.AddDays(30));
        var done = await host.WaitForJobAsync(again.Id, j => j.Status.IsFinished(), TimeSpan.FromSeconds(120));
        Assert.True(done.Status == JobStatus.Completed, $"{done.Status}: {done.Message}");
        await using (var db = database.Factory.CreateDbContext())
        {
            var point = await db.RecoveryPoints.SingleAsync(p => p.ItemId == item.Item.Id);
            Assert.True(point.BytesAdded < 3L * 16 * 1024 * 1024, $"the second backup added {point.BytesAdded} bytes: the packs of the killed one were not reused");
        }
    }

    [Fact]
    public async Task A_portal_restarted_mid_backup_is_reconnected_to_and_the_backup_completes()
    {
        var settings = new Dictionary<string, string?>(Quick) { ["Jobs:LeaseTimeout"] = "00:01:00" };
        await using var host = await ProtectionHost.StartAsync(database, root, settings: settings);
        var portal = await PortalProcess.StartAsync(database, root, Settings(settings));
        try
        {
            var vault = await host.ActAs(ann).GetRequiredService<VaultService>().CreateAsync(new CreateVaultRequest("estate", "east", StorageRedundancy.LRS));
            var web = await RegisterAsync(host, portal, vault.Id, "web-01");
            await host.ActAs(ann).GetRequiredService<MachineService>().SetUploadLimitsAsync(web.Id, 4096, 4096);
            StartAgent(web.State);
            await WaitOnlineAsync(host, web.Id);
            var source = Directory.CreateDirectory(Path.Combine(root, "web-01", "images")).FullName;
            for (var i = 0; i < 2; i++)
                File.WriteAllBytes(Path.Combine(source, $"disk-{i}.img"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(16 * 1024 * 1024));
            var policy = (await host.ActAs(ann).GetRequiredService<PolicyService>().ListAsync(vault.Id)).Single();
            var item = await host.Protection(ann).ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "images", source, MachineId: web.Id));
            var job = await host.Protection(ann).BackUpNowAsync(item.Item.Id, DateTime.UtcNow.AddDays(30));
            await host.WaitForJobAsync(job.Id, j => j.Status == JobStatus.InProgress && j.BytesDone > 0, TimeSpan.FromSeconds(60));

            var port = portal.Url.Port;
            await portal.KillAsync();
            await portal.DisposeAsync();
            portal = await PortalProcess.StartAsync(database, root, Settings(settings), port);

            var done = await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished(), TimeSpan.FromSeconds(120));
            Assert.True(done.Status == JobStatus.Completed, $"{done.Status}: {done.Message}\n{portal.Output}");
            Assert.Equal(1, done.Attempt);
            await using var db = database.Factory.CreateDbContext();
            Assert.Equal(2, (await db.RecoveryPoints.SingleAsync(p => p.ItemId == item.Item.Id)).Files);
        }
        finally
        {
            await portal.DisposeAsync();
        }
    }

    [Fact]
    public async Task Upload_limits_set_on_one_portal_instance_reach_the_agent_connected_to_another_at_once()
    {
        await using var host = await ProtectionHost.StartAsync(database, root, settings: Quick);
        await using var portal = await PortalProcess.StartAsync(database, root, Settings(Quick));
        var vault = await host.ActAs(ann).GetRequiredService<VaultService>().CreateAsync(new CreateVaultRequest("estate", "east", StorageRedundancy.LRS));
        var web = await RegisterAsync(host, portal, vault.Id, "web-01");
        var agent = StartAgent(web.State);
        await WaitOnlineAsync(host, web.Id);
        await WaitUntilAsync(() => LogOf(agent).Contains("Settings: no upload limit."), "the agent's first settings");

        // The operator's page runs on the test's host; the agent's connection is held by the portal process.
        await host.ActAs(ann).GetRequiredService<MachineService>().SetUploadLimitsAsync(web.Id, 2048, 8192);
        await WaitUntilAsync(() => LogOf(agent).Contains("The portal changed the settings: upload limit 2048 KiB/s in work hours (08:00-18:00), 8192 KiB/s outside them."),
            "the agent applies the new limits without reconnecting");
        Assert.Single(Regex.Matches(LogOf(agent), "Connected to the portal at"));
    }

    /// <summary>
    /// A vault whose items are all on machines has no repository of its own (issue 22): each machine's repository holds its
    /// share of the vault manifest. After the database (and key ring) is lost, the vault is attached with one machine's
    /// passphrase, the other machine with its own, the agents reconnect without registering again, and every point lists
    /// and restores byte for byte on its machine.
    /// </summary>
    [Fact]
    public async Task A_vault_whose_items_are_all_on_machines_is_attached_with_each_machines_passphrase_after_the_database_is_lost()
    {
        const string webPassphrase = "machine passphrase of web-01", dbPassphrase = "another passphrase, of db-01";
        var host = await ProtectionHost.StartAsync(database, root, settings: Quick);
        var portal = await PortalProcess.StartAsync(database, root, Settings(Quick));
        try
        {
            var vault = await host.ActAs(ann).GetRequiredService<VaultService>().CreateAsync(new CreateVaultRequest("estate", "east", StorageRedundancy.LRS));
            var (webId, webState) = await AgentMachines.RegisterAsync(host, ann, database, portal, vault.Id, root, "web-01", webPassphrase);
            var (dbId, dbState) = await AgentMachines.RegisterAsync(host, ann, database, portal, vault.Id, root, "db-01", dbPassphrase);
            var web = StartAgent(webState);
            var dbAgent = StartAgent(dbState);
            await WaitOnlineAsync(host, webId, dbId);

            var policy = (await host.ActAs(ann).GetRequiredService<PolicyService>().ListAsync(vault.Id)).Single();
            var webSource = Directory.CreateDirectory(Path.Combine(root, "web-01", "srv", "site")).FullName;
            var dbSource = Directory.CreateDirectory(Path.Combine(root, "db-01", "srv", "dumps")).FullName;
            File.WriteAllText(Path.Combine(webSource, "index.html"), "version 1");
            File.WriteAllText(Path.Combine(webSource, "skip.tmp"), "not backed up");
            File.WriteAllBytes(Path.Combine(dbSource, "dump.bin"), Enumerable.Range(0, 200_000).Select(i => (byte)(i * 13)).ToArray());
            var webItem = (await host.Protection(ann).ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "web-01 site", webSource,
                Exclude: ["*.tmp"], Scripts: new ScriptSettings("true", null), MachineId: webId))).Item;
            var dbItem = (await host.Protection(ann).ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "db-01 dumps", dbSource, MachineId: dbId))).Item;

            var expected = new Dictionary<string, (Guid Item, Dictionary<string, byte[]> Files)>();
            async Task BackUpAsync(Guid itemId, string folder)
            {
                var job = await host.Protection(ann).BackUpNowAsync(itemId, DateTime.UtcNow.AddDays(30));
                var done = await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished(), TimeSpan.FromSeconds(120));
                Assert.True(done.Status == JobStatus.Completed, $"{done.Status}: {done.Message}\n{portal.Output}");
                await using var db = database.Factory.CreateDbContext();
                var newest = await db.RecoveryPoints.Where(p => p.ItemId == itemId).OrderByDescending(p => p.CreatedAt).FirstAsync();
                expected[newest.SnapshotId] = (itemId, Directory.EnumerateFiles(folder).Where(f => !f.EndsWith(".tmp"))
                    .ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes));
            }

            await BackUpAsync(dbItem.Id, dbSource);
            // A machine repository without its manifest (as one written before machine manifests): web-01's backups do not open it
            // (a backup checks the manifest only in the repository it wrote to); the nightly run writes it, even with verification off.
            var dbRepository = host.Services.GetRequiredService<RegionStores>().Machine(vault.Id, "east", dbId);
            async Task<int> ManifestsAsync()
            {
                var count = 0;
                await foreach (var _ in dbRepository.ListAsync("vault/"))
                    count++;
                return count;
            }
            await foreach (var manifest in dbRepository.ListAsync("vault/"))
                await dbRepository.DeleteAsync(manifest.Name);
            await BackUpAsync(webItem.Id, webSource);
            File.WriteAllText(Path.Combine(webSource, "index.html"), "version 2");
            File.WriteAllText(Path.Combine(webSource, "about.html"), "about us");
            await BackUpAsync(webItem.Id, webSource);
            Assert.Equal(0, await ManifestsAsync());
            await host.ActAs(ann).GetRequiredService<VerificationService>().SaveAsync(vault.Id, new VerificationSettings(false, 30, 50));
            await host.Services.CreateScope().ServiceProvider.GetRequiredService<VerificationService>().RunScheduledAsync(default);
            Assert.Equal(1, await ManifestsAsync());
            Assert.False(File.Exists(Path.Combine(root, "regions", "east", "1", "vaults", vault.Id.ToString("N"), "config"))); // no vault repository

            // The database and the key ring are lost; the agents go down with the portal (a machine's agent restarts with it).
            foreach (var agent in new[] { web, dbAgent })
            {
                agent.Kill(entireProcessTree: true);
                await agent.WaitForExitAsync();
            }

            var port = portal.Url.Port;
            await portal.DisposeAsync();
            await host.DisposeAsync();
            await database.DisposeAsync();
            await after.InitializeAsync();
            var fresh = new Dictionary<string, string?>(Quick) { ["Protection:KeyRingPath"] = Path.Combine(root, "keys-after") };
            host = await ProtectionHost.StartAsync(after, root, settings: fresh);
            portal = await PortalProcess.StartAsync(after, root, Settings(fresh), port);
            var attach = host.ActAs(ann).GetRequiredService<AttachService>();

            // web-01's passphrase brings back the vault, web-01 and its item with both points; db-01 waits for its own passphrase.
            var preview = await attach.PreviewAsync(new AttachVaultRequest("east", webPassphrase));
            Assert.Equal(("estate", vault.Id, 1, 2), (preview.Name, preview.VaultId, preview.Machines, preview.RecoveryPoints));
            Assert.Equal([("web-01 site", "web-01", false)], preview.Items.Select(i => (i.Name, i.Machine, i.Recovered)));
            Assert.Contains(preview.Notes, n => n.Contains("Machine web-01 comes back registered") && n.Contains("systemctl restart portal-agent"));
            Assert.Contains(preview.Notes, n => n.Contains("1 other machine repository of this vault") && n.Contains("Attach another machine"));
            await attach.AttachAsync(new AttachVaultRequest("east", webPassphrase));
            StartAgent(webState); // restarted as the note says; it connects with the keys it registered with
            var twice = await Assert.ThrowsAsync<Portal.Features.Common.PortalConflictException>(() => attach.AttachAsync(new AttachVaultRequest("east", dbPassphrase)));
            Assert.Contains("Attach another machine", twice.Message);
            var wrong = await Assert.ThrowsAsync<Portal.Features.Common.PortalValidationException>(() => attach.AttachMachineAsync(vault.Id, "not a passphrase of these machines"));
            Assert.Contains("opens none of the 1 machine repository of vault estate", wrong.Errors["Passphrase"]);
            Assert.Equal(1, await attach.MachinesWaitingAsync(vault.Id)); // the vault page offers "Attach another machine"
            var dbPreview = await attach.PreviewMachineAsync(vault.Id, dbPassphrase);
            Assert.Equal(["db-01"], dbPreview.MachineNames);
            Assert.Equal([("db-01 dumps", "db-01", 1)], dbPreview.Items.Select(i => (i.Name, i.Machine, i.RecoveryPoints)));
            Assert.Equal(0, await host.ActAs(TestUsers.WithRoles("Olga", PortalRoles.Operator)).GetRequiredService<AttachService>().MachinesWaitingAsync(vault.Id));
            var other = await attach.AttachMachineAsync(vault.Id, dbPassphrase);
            Assert.Equal(0, await attach.MachinesWaitingAsync(vault.Id));
            await using (var db = after.Factory.CreateDbContext())
                Assert.Equal(dbPreview.NewestPoint!.Value, await db.RecoveryPoints.Where(p => p.ItemId == dbItem.Id).MaxAsync(p => p.CreatedAt), TimeSpan.FromMilliseconds(1)); // PostgreSQL keeps microseconds
            StartAgent(dbState);
            Assert.Equal([("db-01 dumps", "db-01", 1)], other.Items.Select(i => (i.Name, i.Machine, i.RecoveryPoints)));
            var none = await Assert.ThrowsAsync<Portal.Features.Common.PortalValidationException>(() => attach.AttachMachineAsync(vault.Id, dbPassphrase));
            Assert.Contains("already in the catalog", none.Errors["Passphrase"]);
            await Assert.ThrowsAsync<Portal.Features.Common.PortalAccessDeniedException>(() =>
                host.ActAs(TestUsers.WithRoles("Olga", PortalRoles.Operator)).GetRequiredService<AttachService>().AttachMachineAsync(vault.Id, dbPassphrase));

            // The item comes back as it was defined; the portal opens each machine's repository with the key sealed again to the vault's new escrow key.
            var webBack = (await host.Protection(ann).GetAsync(webItem.Id))!;
            Assert.Equal(["*.tmp"], webBack.Exclude);
            Assert.Equal(("true", ProtectionState.Protected), (webBack.Workload?.PreScript, webBack.Item.State));
            using (var opened = await host.Services.GetRequiredService<IMachines>().OpenRepositoryAsync(webId, CancellationToken.None))
            {
                Assert.Equal(2, (await opened.ListSnapshotsAsync()).Count);
                // web-01's repository holds its share of the manifest only: no escrow key, no other machine.
                var share = VaultManifestDocument.TryParse((await opened.ReadVaultManifestAsync())!.Document)!;
                Assert.Null(share.Escrow);
                Assert.Equal([webId], share.Machines.Select(m => m.Id));
            }

            // The agents are back without registering again; every point restores byte for byte on its machine.
            await WaitOnlineAsync(host, webId, dbId);
            var restores = host.ActAs(ann).GetRequiredService<RestoreService>();
            var started = new List<(Guid Job, string Target, Dictionary<string, byte[]> Files)>();
            foreach (var (snapshot, (itemId, files)) in expected)
            {
                var point = (await restores.ListPointsAsync(itemId)).Single(p => p.SnapshotId == snapshot);
                var target = Path.Combine(root, itemId == webItem.Id ? "web-01" : "db-01", "restored", snapshot[..8]);
                var job = await restores.StartAsync(new FileRestoreRequest(itemId, point.Id, [], RestoreDestination.AlternateLocation, target, RestoreConflictOption.Overwrite));
                started.Add((job.Id, target, files));
            }

            Assert.Equal(3, started.Count);
            foreach (var (jobId, target, files) in started)
            {
                var done = await host.WaitForJobAsync(jobId, j => j.Status.IsFinished(), TimeSpan.FromSeconds(90));
                Assert.True(done.Status == JobStatus.Completed, $"{done.Status}: {done.Message}\n{portal.Output}");
                Assert.Equal(files.Keys.Order(), Directory.EnumerateFiles(target).Select(Path.GetFileName).Order());
                Assert.All(files, f => Assert.Equal(f.Value, File.ReadAllBytes(Path.Combine(target, f.Key))));
            }
        }
        finally
        {
            await portal.DisposeAsync();
            await host.DisposeAsync();
        }
    }

    private sealed record Registered(Guid Id, string State);

    private async Task<Registered> RegisterAsync(ProtectionHost host, PortalProcess portal, Guid vaultId, string name)
    {
        var (id, state) = await AgentMachines.RegisterAsync(host, ann, database, portal, vaultId, root, name, Passphrase);
        await using var db = database.Factory.CreateDbContext();
        Assert.NotNull((await db.Machines.SingleAsync(m => m.Id == id)).EscrowedRepositoryKey);
        return new Registered(id, state);
    }

    private Process StartAgent(string state, IReadOnlyDictionary<string, string>? environment = null)
    {
        var log = new StringBuilder();
        var process = AgentMachines.Start(state, log, environment);
        agents.Add(process);
        agentLogs[process] = log;
        return process;
    }

    /// <summary>What an agent started by <see cref="StartAgent"/> wrote so far.</summary>
    private string LogOf(Process agent)
    {
        var log = agentLogs[agent];
        lock (log) return log.ToString();
    }

    private static async Task WaitOnlineAsync(ProtectionHost host, params Guid[] machines)
    {
        var directory = host.Services.GetRequiredService<IMachines>();
        await WaitUntilAsync(async () =>
        {
            foreach (var id in machines)
                if (await directory.FindAsync(id, CancellationToken.None) is not { Online: true })
                    return false;
            return true;
        }, "the machines are online");
    }

    private static Task WaitUntilAsync(Func<bool> condition, string what) => WaitUntilAsync(() => Task.FromResult(condition()), what);

    /// <summary>Polls a condition other processes make true (there is nothing to subscribe to across processes).</summary>
    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Waited 90 s for: {what}.");
            await Task.Delay(100);
        }
    }

    private static Dictionary<string, string> Settings(IReadOnlyDictionary<string, string?> settings)
    {
        var env = settings.Where(s => s.Key != "Jobs:MaxConcurrentJobs").ToDictionary(s => s.Key.Replace(":", "__"), s => s.Value!);
        return env;
    }

    private static async Task<(int Code, string Out, string Err)> RunCliAsync(params string[] args)
    {
        var bin = Path.GetDirectoryName(typeof(AgentJourneyTests).Assembly.Location)!;
        var configuration = Path.GetFileName(Path.GetDirectoryName(bin))!;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(Checkout.Root(), "Portal.Cli", "bin", configuration, "net10.0", "Portal.Cli.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["PORTAL_PASSPHRASE"] = Passphrase;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }
}
