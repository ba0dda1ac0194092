using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Engine.Operations;
using Portal.Engine.Retention;
using Portal.Features.Attach;
using Portal.Features.Audit;
using Portal.Features.Common;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Policies;
using Portal.Features.Protection;
using Portal.Features.Regions;
using Portal.Features.Restore;
using Portal.Features.Vaults;
using Portal.Features.Workloads;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Integration;

/// <summary>
/// The catalog rebuilds from storage (issue 22): back up several items, lose the portal's database (and its key ring),
/// start a fresh portal on an empty database, attach the vault with its region and passphrase, and every recovery point
/// lists and restores byte for byte.
/// </summary>
public sealed class AttachVaultTests : IAsyncLifetime
{
    private const string Passphrase = "correct horse battery staple";
    private readonly string root = Directory.CreateTempSubdirectory("portal-attach-").FullName;
    private readonly ClaimsPrincipal ann = TestUsers.WithRoles("Ann", PortalRoles.Contributor);
    private readonly ClaimsPrincipal olga = TestUsers.WithRoles("Olga", PortalRoles.Operator);
    private readonly SampleDatabase shop = new();
    private TestDatabase first = new(), second = new();
    private ProtectionHost host = null!;

    public async Task InitializeAsync()
    {
        await first.InitializeAsync();
        host = await ProtectionHost.StartAsync(first, root);
    }

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        await first.DisposeAsync();
        await second.DisposeAsync();
        await shop.DisposeAsync();
        Directory.Delete(root, recursive: true);
    }

    /// <summary>The database is lost with the portal host's key ring: a new host, a new key ring, an empty database, the same storage.</summary>
    private async Task LoseTheDatabaseAsync()
    {
        await host.DisposeAsync();
        await first.DisposeAsync();
        await second.InitializeAsync();
        host = await ProtectionHost.StartAsync(second, root, settings: new Dictionary<string, string?> { ["Protection:KeyRingPath"] = Path.Combine(root, "keys-after") });
    }

    private AttachService Attach(ClaimsPrincipal user) => host.ActAs(user).GetRequiredService<AttachService>();

    private async Task BackUpAsync(Guid itemId)
    {
        var job = await host.Protection(ann).BackUpNowAsync(itemId, DateTime.UtcNow.AddDays(30));
        var done = await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished(), TimeSpan.FromSeconds(120));
        Assert.True(done.Status == JobStatus.Completed, done.Message);
    }

    private static Dictionary<string, byte[]> Contents(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(folder, f), File.ReadAllBytes);

    [Fact]
    public async Task After_the_database_is_lost_an_attached_vault_lists_and_restores_every_point_byte_for_byte()
    {
        // Before: a vault with two policies, a files item with patterns, a second files item, a database, and a point of an item no longer in the manifest.
        var vault = await host.ActAs(ann).GetRequiredService<VaultService>().CreateAsync(new CreateVaultRequest("finance", "east", StorageRedundancy.LRS));
        var policies = host.ActAs(ann).GetRequiredService<PolicyService>();
        var weekly = await policies.CreateAsync(vault.Id, "Weekly", new PolicyDefinition(
            new BackupSchedule(ScheduleFrequency.Weekly, [DayOfWeek.Sunday], [new TimeOnly(3, 0)], "UTC"),
            new RetentionPolicy(null, new WeeklyRetention(12, [DayOfWeek.Sunday]))));
        var daily = (await policies.ListAsync(vault.Id)).Single(p => p.Name != "Weekly");
        var share = Path.Combine(host.SourceRoot, "share");
        var photos = Path.Combine(host.SourceRoot, "photos");
        Directory.CreateDirectory(Path.Combine(share, "slides"));
        Directory.CreateDirectory(photos);
        File.WriteAllText(Path.Combine(share, "slides", "q3.pptx"), "quarter three, version 1");
        File.WriteAllText(Path.Combine(share, "notes.txt"), "plain notes");
        File.WriteAllText(Path.Combine(share, "skip.tmp"), "not backed up");
        File.WriteAllBytes(Path.Combine(photos, "beach.jpg"), Engine.EngineTestKit.Random(300_000, 3));
        var shareItem = (await host.Protection(ann).ConfigureAsync(new ConfigureProtectionRequest(vault.Id, daily.Id, "share", share, null, ["*.tmp"], Passphrase, Passphrase))).Item;
        var photosItem = (await host.Protection(ann).ConfigureAsync(new ConfigureProtectionRequest(vault.Id, weekly.Id, "photos", photos, null, null, null, null))).Item;
        await shop.CreateAsync(rows: 500);
        var shopItem = (await host.Protection(ann).ConfigureAsync(new ConfigureProtectionRequest(vault.Id, daily.Id, "shop database", "", null, null, null, null,
            new DatabaseSettings(shop.Host, shop.Port, shop.Name, shop.User, null)))).Item;

        var expected = new Dictionary<(Guid Item, string Snapshot), Dictionary<string, byte[]>>();
        async Task BackUpAndRememberAsync(Guid itemId, string folder)
        {
            await BackUpAsync(itemId);
            await using var db = first.Factory.CreateDbContext();
            var newest = await db.RecoveryPoints.Where(p => p.ItemId == itemId).OrderByDescending(p => p.CreatedAt).FirstAsync();
            expected[(itemId, newest.SnapshotId)] = Contents(folder).Where(f => !f.Key.EndsWith(".tmp")).ToDictionary();
        }

        await BackUpAndRememberAsync(shareItem.Id, share);
        File.WriteAllText(Path.Combine(share, "slides", "q3.pptx"), "quarter three, version 2");
        File.WriteAllText(Path.Combine(share, "slides", "q4.pptx"), "quarter four");
        await BackUpAndRememberAsync(shareItem.Id, share);
        await BackUpAndRememberAsync(photosItem.Id, photos);
        await host.ActAs(ann).GetRequiredService<Portal.Features.Drills.DrillService>().SetCheckQueryAsync(shopItem.Id, "select count(*) from orders");
        await BackUpAsync(shopItem.Id);
        var shopFingerprint = await shop.FingerprintAsync();
        // A point of an item that is no longer in the manifest: only its snapshot's tags say what it was.
        var old = Path.Combine(host.SourceRoot, "old");
        Directory.CreateDirectory(old);
        File.WriteAllText(Path.Combine(old, "archive.txt"), "kept from an item long gone");
        using (var engine = await host.Services.GetRequiredService<VaultKeys>().OpenAsync(vault.Id, vault.Name, vault.Region))
            await engine.BackupAsync(new BackupRequest(old) { Tags = [$"item:{Guid.NewGuid():N}", "scheduled", "name:old share", "kind:FilesAndFolders", $"source:{old}"] });
        int pointsBefore;
        await using (var db = first.Factory.CreateDbContext())
            pointsBefore = await db.RecoveryPoints.CountAsync();
        Assert.Equal(4, pointsBefore);

        await LoseTheDatabaseAsync();

        // What the vault holds is shown before anything is saved.
        var preview = await Attach(ann).PreviewAsync(new AttachVaultRequest("east", Passphrase));
        Assert.Equal("finance", preview.Name);
        Assert.Equal(vault.Id, preview.VaultId);
        Assert.Equal(2, preview.Policies);
        Assert.Equal(5, preview.RecoveryPoints);
        Assert.Equal([("old share", true, 1), ("photos", false, 1), ("share", false, 2), ("shop database", false, 1)],
            preview.Items.Select(i => (i.Name, i.Recovered, i.RecoveryPoints)));
        Assert.Equal("Weekly", preview.Items.Single(i => i.Name == "photos").Policy);
        Assert.Empty(preview.Unavailable);
        await using (var db = second.Factory.CreateDbContext())
            Assert.False(await db.Vaults.AnyAsync());

        var attached = await Attach(ann).AttachAsync(new AttachVaultRequest("east", Passphrase));
        Assert.Equal(5, attached.RecoveryPoints);

        // The vault, its policies (with their schedules) and its items (with their patterns) are back.
        var details = (await host.ActAs(ann).GetRequiredService<VaultService>().GetAsync("finance"))!;
        Assert.Equal(vault.Id, details.Id);
        var back = await host.ActAs(ann).GetRequiredService<PolicyService>().ListAsync(vault.Id);
        Assert.Equal(ScheduleFrequency.Weekly, back.Single(p => p.Name == "Weekly").Definition.Schedule.Frequency);
        var shareBack = (await host.Protection(ann).GetAsync(shareItem.Id))!;
        Assert.Equal(["*.tmp"], shareBack.Exclude);
        Assert.Equal(ProtectionState.Protected, shareBack.Item.State);
        // The database item's drill check query is in the manifest too.
        Assert.Equal("select count(*) from orders",
            (await host.ActAs(ann).GetRequiredService<Portal.Features.Drills.DrillService>().GetItemSettingsAsync(shopItem.Id)).CheckQuery);

        // Every point lists and restores byte for byte.
        var restores = host.ActAs(ann).GetRequiredService<RestoreService>();
        foreach (var ((itemId, snapshot), files) in expected)
        {
            var point = (await restores.ListPointsAsync(itemId)).Single(p => p.SnapshotId == snapshot);
            var target = Path.Combine(host.RestoreRoot, point.SnapshotId[..8]);
            var job = await restores.StartAsync(new FileRestoreRequest(itemId, point.Id, [], RestoreDestination.AlternateLocation, target, RestoreConflictOption.Overwrite));
            var done = await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished());
            Assert.True(done.Status == JobStatus.Completed, done.Message);
            var restored = Contents(target);
            Assert.Equal(files.Keys.Order(), restored.Keys.Order());
            Assert.All(files, f => Assert.Equal(f.Value, restored[f.Key]));
        }

        var recovered = (await host.Protection(ann).ListAsync(new ItemQuery(Search: "old share"))).Items.Single();
        Assert.Equal(BackupItemKinds.Recovered, recovered.Kind);
        var oldPoint = (await restores.ListPointsAsync(recovered.Id)).Single();
        var oldTarget = Path.Combine(host.RestoreRoot, "old");
        var oldJob = await restores.StartAsync(new FileRestoreRequest(recovered.Id, oldPoint.Id, [], RestoreDestination.AlternateLocation, oldTarget, RestoreConflictOption.Overwrite));
        Assert.Equal(JobStatus.Completed, (await host.WaitForJobAsync(oldJob.Id, j => j.Status.IsFinished())).Status);
        Assert.Equal("kept from an item long gone", File.ReadAllText(Path.Combine(oldTarget, "archive.txt")));

        var shopPoint = (await restores.ListPointsAsync(shopItem.Id)).Single();
        var copy = shop.Also("shop_attached");
        var dbJob = await host.ActAs(ann).GetRequiredService<DatabaseRestoreService>()
            .StartAsync(new DatabaseRestoreRequest(shopItem.Id, shopPoint.Id, DatabaseRestoreTarget.NewDatabase, copy));
        var dbDone = await host.WaitForJobAsync(dbJob.Id, j => j.Status.IsFinished(), TimeSpan.FromSeconds(120));
        Assert.True(dbDone.Status == JobStatus.Completed, dbDone.Message);
        Assert.Equal(shopFingerprint, await shop.FingerprintAsync(copy));

        // Backups go on at once with the key sealed on the new host, and the attach is audited.
        await BackUpAsync(shareItem.Id);
        await using (var db = second.Factory.CreateDbContext())
        {
            var entry = await db.AuditEntries.SingleAsync(a => a.Action == AuditActions.VaultAttach && a.Outcome == AuditOutcome.Succeeded);
            Assert.Equal("Ann", entry.ActorName);
            Assert.Equal("vault/finance", entry.Resource);
            Assert.Contains("5 recovery point(s)", entry.Detail);
        }
    }

    [Fact]
    public async Task Attaching_twice_a_wrong_passphrase_a_region_without_vaults_and_a_non_contributor_are_refused_in_words()
    {
        var vault = await host.ActAs(ann).GetRequiredService<VaultService>().CreateAsync(new CreateVaultRequest("finance", "east", StorageRedundancy.LRS));
        var policy = (await host.ActAs(ann).GetRequiredService<PolicyService>().ListAsync(vault.Id)).Single();
        var share = Path.Combine(host.SourceRoot, "share");
        Directory.CreateDirectory(share);
        File.WriteAllText(Path.Combine(share, "a.txt"), "a");
        await host.Protection(ann).ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "share", share, null, null, Passphrase, Passphrase));

        // Still in the catalog: attaching it is refused, and nothing changes.
        var twice = await Assert.ThrowsAsync<PortalConflictException>(() => Attach(ann).AttachAsync(new AttachVaultRequest("east", Passphrase)));
        Assert.Contains("Vault finance is already in the catalog", twice.Message);

        await LoseTheDatabaseAsync();
        var wrong = await Assert.ThrowsAsync<PortalValidationException>(() => Attach(ann).PreviewAsync(new AttachVaultRequest("east", "not the passphrase at all")));
        Assert.Contains($"That is not the passphrase of the vault in vaults/{vault.Id:N} of region east", wrong.Errors["Passphrase"]);
        var empty = await Assert.ThrowsAsync<PortalValidationException>(() => Attach(ann).AttachAsync(new AttachVaultRequest("central", Passphrase)));
        Assert.Contains("Region central holds no vault", empty.Errors["Region"]);
        var badId = await Assert.ThrowsAsync<PortalValidationException>(() => Attach(ann).PreviewAsync(new AttachVaultRequest("east", Passphrase, "not-an-id")));
        Assert.Contains("32 hexadecimal digits", badId.Errors["VaultId"]);
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Attach(olga).AttachAsync(new AttachVaultRequest("east", Passphrase)));
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Attach(olga).PreviewAsync(new AttachVaultRequest("east", Passphrase)));

        // By its folder's name, then a second time.
        await Attach(ann).AttachAsync(new AttachVaultRequest("east", Passphrase, $"vaults/{vault.Id:N}"));
        var again = await Assert.ThrowsAsync<PortalConflictException>(() => Attach(ann).AttachAsync(new AttachVaultRequest("east", Passphrase)));
        Assert.Contains("already in the catalog", again.Message);
        await using var db = second.Factory.CreateDbContext();
        Assert.Equal(1, await db.Vaults.CountAsync());
        Assert.Equal(1, await db.BackupItems.CountAsync());
        // Attaches are audited, refused ones too (the operator, the second attach), but not bad input (the region without
        // vaults: a form's validation, issue 25's rule in AuditLog.GuardAsync); a preview saves nothing and is not audited.
        Assert.Equal(["Refused", "Succeeded", "Refused"],
            (await db.AuditEntries.Where(a => a.Action == AuditActions.VaultAttach).OrderBy(a => a.Id).ToListAsync()).Select(a => a.Outcome.ToString()));
    }
    public static TheoryData<string, bool> Roles()
    {
        var data = new TheoryData<string, bool>();
        foreach (var role in PortalRoles.All)
            data.Add(role, role == PortalRoles.Contributor);
        return data;
    }

    /// <summary>The role matrix of the attach operation (called on the service, not through the page): Backup.Contributor only.</summary>
    [Theory]
    [MemberData(nameof(Roles))]
    public async Task Only_a_backup_contributor_may_attach_a_vault(string role, bool allowed)
    {
        // A vault's repository in east that no catalog knows, with a point but no manifest (data from before manifests).
        var id = Guid.NewGuid();
        var source = Path.Combine(host.SourceRoot, "legacy");
        Directory.CreateDirectory(source);
        File.WriteAllText(Path.Combine(source, "a.txt"), "a");
        using (var engine = await Portal.Engine.BackupEngine.InitAsync(host.Services.GetRequiredService<RegionStores>().Vault(id, "east"), Passphrase,
                   Engine.EngineTestKit.Options))
            await engine.BackupAsync(new BackupRequest(source) { Tags = [$"item:{Guid.NewGuid():N}", "scheduled"] });
        var caller = Attach(TestUsers.WithRoles("Caller", role));

        if (allowed)
        {
            var attached = await caller.AttachAsync(new AttachVaultRequest("east", Passphrase));
            Assert.Equal($"recovered-{id.ToString("N")[..8]}", attached.Name);
            Assert.Equal(1, attached.RecoveryPoints);
            Assert.Contains(attached.Notes, n => n.Contains("no vault manifest"));
            // Attach another machine: this vault has none in its storage.
            var none = await Assert.ThrowsAsync<PortalValidationException>(() => caller.AttachMachineAsync(id, Passphrase));
            Assert.Contains("holds no machine repository", none.Errors["Passphrase"]);
            Assert.Equal(0, await caller.MachinesWaitingAsync(id)); // so the vault page does not offer it
            await Assert.ThrowsAsync<PortalValidationException>(() => caller.PreviewMachineAsync(id, Passphrase));
        }
        else
        {
            var refusal = await Assert.ThrowsAsync<PortalAccessDeniedException>(() => caller.AttachAsync(new AttachVaultRequest("east", Passphrase)));
            Assert.Contains("role", refusal.Message);
            await Assert.ThrowsAsync<PortalAccessDeniedException>(() => caller.PreviewAsync(new AttachVaultRequest("east", Passphrase)));
            await Assert.ThrowsAsync<PortalAccessDeniedException>(() => caller.AttachMachineAsync(id, Passphrase));
            await Assert.ThrowsAsync<PortalAccessDeniedException>(() => caller.PreviewMachineAsync(id, Passphrase));
        }

        await using var db = first.Factory.CreateDbContext();
        Assert.Equal(allowed ? 1 : 0, await db.Vaults.CountAsync());
        Assert.Equal(allowed ? 1 : 0, await db.RecoveryPoints.CountAsync());
    }
}
