using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Features.Approvals;
using Portal.Features.Audit;
using Portal.Features.Common;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Policies;
using Portal.Features.Protection;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Integration;

/// <summary>
/// Azure's immutable vault, in the services: while a vault is immutable, nothing removes a recovery point before its
/// retention ends (reducing retention, stop protection with delete, deleting the vault, GRS → LRS), even a request
/// approved after immutability was turned on; locking is irreversible and needs a second Backup.Contributor.
/// </summary>
public sealed class ImmutableVaultTests : ProtectionHostTest
{
    private readonly System.Security.Claims.ClaimsPrincipal bob = TestUsers.WithRoles("Bob", PortalRoles.Contributor);

    private VaultService Vaults(System.Security.Claims.ClaimsPrincipal user) => host.ActAs(user).GetRequiredService<VaultService>();

    private ApprovalService Approvals(System.Security.Claims.ClaimsPrincipal user) => host.ActAs(user).GetRequiredService<ApprovalService>();

    private PolicyService Policies => host.ActAs(ann).GetRequiredService<PolicyService>();

    private async Task<VaultDetails> VaultAsync() => (await Vaults(ann).GetAsync("finance"))!;

    private async Task<ItemDetails> ItemAsync(Guid id) => (await host.Protection(ann).GetAsync(id))!;

    /// <summary>A GRS vault with one item and one recovery point.</summary>
    private async Task<(ItemDetails Item, PolicyDetails Policy)> ProtectedItemWithAPointAsync()
    {
        var (vault, policy) = await NewVaultAsync(redundancy: StorageRedundancy.GRS);
        var folder = Path.Combine(host.SourceRoot, "share");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "ledger.txt"), "the only copy of yesterday's ledger");
        var item = await host.Protection(ann).ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "share", folder, null, null, Passphrase, Passphrase));
        var job = await host.Protection(ann).BackUpNowAsync(item.Item.Id, DateTime.UtcNow.AddDays(30));
        Assert.Equal(JobStatus.Completed, (await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished())).Status);
        return (await ItemAsync(item.Item.Id), policy);
    }

    [Fact]
    public async Task While_immutable_every_early_removal_is_refused_with_the_reason_even_one_approved_later()
    {
        var (item, policy) = await ProtectedItemWithAPointAsync();
        Assert.Single(item.RecoveryPoints);
        // Asked for before the vault became immutable, approved after: the approval must not run them.
        await host.Protection(ann).RequestStopAndDeleteAsync(item.Item.Id, item.Version, "share");
        var reduced = await Policies.UpdateAsync(policy.Id, policy.Version, policy.Definition with { Retention = new(DailyDays: 7) });
        Assert.True(reduced.ApprovalRequested);
        var earlier = (await Approvals(bob).ListAsync()).Where(r => r.Status == ApprovalStatus.Pending).ToList();
        Assert.Equal(2, earlier.Count);

        var vault = (await Vaults(ann).SetImmutabilityAsync((await VaultAsync()).Id, (await VaultAsync()).Version, VaultImmutability.Enabled)).Vault;
        Assert.Equal(VaultImmutability.Enabled, vault.Immutability);

        var deleteData = await Assert.ThrowsAsync<PortalConflictException>(async () =>
            await host.Protection(ann).RequestStopAndDeleteAsync(item.Item.Id, (await ItemAsync(item.Item.Id)).Version, "share"));
        Assert.Contains("Vault finance is immutable: deleting the backup data of share (1 recovery point(s)) would remove recovery points before their retention ends", deleteData.Message);
        Assert.Contains("Stop protection and keep the data instead", deleteData.Message);

        var current = (await Policies.GetAsync(vault.Id, policy.Name))!;
        var retention = await Assert.ThrowsAsync<PortalConflictException>(() =>
            Policies.UpdateAsync(current.Id, current.Version, current.Definition with { Retention = new(DailyDays: 7) }));
        Assert.Contains("reducing the retention of policy DefaultPolicy", retention.Message);
        var longer = await Policies.UpdateAsync(current.Id, current.Version, current.Definition with { Retention = new(DailyDays: 60) });
        Assert.False(longer.ApprovalRequested); // lengthening stays possible

        var shorter = await Policies.CreateAsync(vault.Id, "Short", current.Definition with { Retention = new(DailyDays: 7) });
        var move = await Assert.ThrowsAsync<PortalConflictException>(async () =>
            await host.Protection(ann).EditAsync(item.Item.Id, (await ItemAsync(item.Item.Id)).Version, new EditItemRequest(shorter.Id)));
        Assert.Contains("moving share to policy Short, which keeps its recovery points for less time,", move.Message);

        var toLrs = await Assert.ThrowsAsync<PortalConflictException>(() =>
            Vaults(ann).UpdateAsync(new UpdateVaultRequest(vault.Id, vault.Version, StorageRedundancy.LRS, true, 14, "finance")));
        Assert.Contains("changing to LRS (which deletes the copy in west)", toLrs.Message);

        var deleteVault = await Assert.ThrowsAsync<PortalConflictException>(() => Vaults(ann).RequestDeleteAsync(vault.Id, vault.Version, "finance"));
        Assert.Contains("Vault finance is immutable: deleting it", deleteVault.Message);

        foreach (var request in earlier)
        {
            var approval = await Assert.ThrowsAsync<PortalConflictException>(() => Approvals(bob).ApproveAsync(request.Id));
            Assert.Contains("is immutable", approval.Message);
        }

        // Nothing changed: the item is protected with its point, the policy keeps 60 days, the vault is GRS.
        var after = await ItemAsync(item.Item.Id);
        Assert.Equal((ProtectionState.Protected, 1), (after.Item.State, after.RecoveryPoints.Count));
        Assert.Equal(60, (await Policies.GetAsync(vault.Id, policy.Name))!.Definition.Retention.DailyDays);
        Assert.Equal(StorageRedundancy.GRS, (await VaultAsync()).Redundancy);
        Assert.Equal(2, (await Approvals(bob).ListAsync()).Count(r => r.Status == ApprovalStatus.Pending)); // still waiting: Bob can reject them
    }

    /// <summary>A second item in the vault, backed up once on demand (kept 30 days).</summary>
    private async Task<ItemDetails> AnotherItemAsync(VaultDetails vault, PolicyDetails policy, string name)
    {
        var folder = Path.Combine(host.SourceRoot, name);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "notes.txt"), $"what only {name} holds");
        var item = await host.Protection(ann).ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, name, folder, null, null, null, null));
        var job = await host.Protection(ann).BackUpNowAsync(item.Item.Id, DateTime.UtcNow.AddDays(30));
        Assert.Equal(JobStatus.Completed, (await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished())).Status);
        return await ItemAsync(item.Item.Id);
    }

    /// <summary>
    /// Points taken before the vault became immutable carry no keep-until in their snapshots: turning immutability on holds
    /// them in the repository at once (not at the next retention run), each until its retention ends: an item's on-demand
    /// point until its own date, one of an item without a policy too, and a stopped item's latest point (kept until
    /// deleted) with no end. From that moment a removal asked of the services (a retention job, as one queued before would
    /// run) and of the engine directly is refused with the reason, and nothing is removed. Turning an unlocked immutability
    /// off releases the hold with no end; the dated ones stay until their time.
    /// </summary>
    [Fact]
    public async Task Turning_immutability_on_holds_every_earlier_point_at_once_and_the_services_and_the_engine_refuse_to_remove_them()
    {
        var (item, policy) = await ProtectedItemWithAPointAsync();
        var vault = await VaultAsync();
        var stopped = await AnotherItemAsync(vault, policy, "archive");
        await host.Protection(ann).StopProtectionAsync(stopped.Item.Id, stopped.Version); // its latest point is kept until deleted
        var legacy = await AnotherItemAsync(vault, policy, "legacy");
        await using (var db = database.Factory.CreateDbContext())
            await db.BackupItems.Where(i => i.Id == legacy.Item.Id).ExecuteUpdateAsync(u => u.SetProperty(i => i.PolicyId, (Guid?)null)); // an item made before policies
        var points = new[] { item, stopped, legacy }.Select(i => Assert.Single(i.RecoveryPoints).SnapshotId).ToArray();
        var keys = host.Services.GetRequiredService<VaultKeys>();
        using (var engine = await keys.OpenAsync(vault.Id, vault.Name, vault.Region))
            Assert.All(await engine.ListSnapshotsAsync(), s => Assert.Null(s.KeepUntil));

        var turnedOn = await Vaults(ann).SetImmutabilityAsync(vault.Id, vault.Version, VaultImmutability.Enabled);
        Assert.Contains("are now held in its storage until their retention ends: 3 in the portal host's repository (1 of them kept until deleted, held with no end)", turnedOn.Note);

        List<RecoveryPoint> rows;
        await using (var db = database.Factory.CreateDbContext())
            rows = await db.RecoveryPoints.Where(p => p.VaultId == vault.Id).ToListAsync();
        var own = rows.Single(p => p.SnapshotId == points[0]);
        var kept = rows.Single(p => p.SnapshotId == points[1]);
        var noPolicy = rows.Single(p => p.SnapshotId == points[2]);
        Assert.Equal((own.RetainUntil, false), (own.ImmutableUntil, own.HeldWhileImmutable)); // its on-demand date, as it was when the vault became immutable
        Assert.Equal((null, true), (kept.ImmutableUntil, kept.HeldWhileImmutable));
        Assert.Equal((noPolicy.RetainUntil, false), (noPolicy.ImmutableUntil, noPolicy.HeldWhileImmutable));

        // Through the services: a retention job told to remove them (as one queued before immutability was turned on would be) fails with the reason.
        var pipeline = host.Services.GetRequiredService<Portal.Features.Jobs.Pipeline.JobPipeline>();
        var retention = host.Services.GetRequiredService<RetentionJob>();
        var job = await pipeline.RunHereAsync(retention, new RetentionInput(vault.Id, [.. rows.Select(p => p.Id)], []),
            new Portal.Features.Jobs.Pipeline.JobTarget(vault.Id, vault.Name, null, "retention"), "portal", CancellationToken.None);
        Assert.Equal(JobStatus.Failed, job.Status);
        Assert.Contains($"snapshot {points[0][..8]} must be kept until {own.RetainUntil:yyyy-MM-dd HH:mm} UTC", job.Message);
        Assert.Contains($"snapshot {points[1][..8]} is held with no end date (its retention has none: kept until deleted)", job.Message);
        await using (var db = database.Factory.CreateDbContext())
            Assert.Equal(3, await db.RecoveryPoints.CountAsync(p => p.VaultId == vault.Id));

        // Through the engine, whoever asks: nothing is removed, and prune keeps their data.
        using (var engine = await keys.OpenAsync(vault.Id, vault.Name, vault.Region))
        {
            foreach (var snapshot in points)
                await Assert.ThrowsAsync<Portal.Engine.SnapshotRetainedException>(() => engine.ForgetAsync([snapshot]));
            await engine.PruneAsync();
            var listed = await engine.ListSnapshotsAsync();
            Assert.Equal(3, listed.Count);
            Assert.Equal(own.RetainUntil, listed.Single(s => s.Id == points[0]).KeepUntil?.UtcDateTime);
            Assert.True(listed.Single(s => s.Id == points[1]).HeldUntilReleased);
            Assert.True((await engine.CheckAsync(readData: true)).IsHealthy);
        }

        // Off again (unlocked): the hold with no end is released; the dated holds stay until their time.
        vault = await VaultAsync();
        var turnedOff = await Vaults(ann).SetImmutabilityAsync(vault.Id, vault.Version, VaultImmutability.Disabled);
        Assert.Contains("no longer held in vault finance's storage: 1 in the portal host's repository", turnedOff.Note);
        using (var engine = await keys.OpenAsync(vault.Id, vault.Name, vault.Region))
        {
            await Assert.ThrowsAsync<Portal.Engine.SnapshotRetainedException>(() => engine.ForgetAsync([points[0]]));
            Assert.Equal([points[1]], await engine.ForgetAsync([points[1]]));
        }

        await using (var db = database.Factory.CreateDbContext())
            Assert.False(await db.RecoveryPoints.AnyAsync(p => p.HeldWhileImmutable));
    }

    /// <summary>
    /// A repository that cannot be opened when immutability is turned on (its storage unreachable): the request says so
    /// (the services refuse early removals meanwhile), and the next retention run holds its points.
    /// </summary>
    [Fact]
    public async Task Points_of_a_repository_out_of_reach_when_immutability_is_turned_on_are_held_by_the_next_retention_run()
    {
        var (item, _) = await ProtectedItemWithAPointAsync();
        var point = Assert.Single(item.RecoveryPoints);
        var vault = await VaultAsync();
        var regions = Path.Combine(root, "regions");
        Directory.Move(regions, regions + "-unreachable");
        VaultUpdateResult turnedOn;
        try
        {
            turnedOn = await Vaults(ann).SetImmutabilityAsync(vault.Id, vault.Version, VaultImmutability.Enabled);
        }
        finally
        {
            Directory.Move(regions + "-unreachable", regions);
        }

        Assert.Equal(VaultImmutability.Enabled, turnedOn.Vault.Immutability);
        Assert.True(turnedOn.Incomplete);
        Assert.Contains("1 in the portal host's repository could not be held yet", turnedOn.Note);
        Assert.Contains("the next retention run tries again", turnedOn.Note);
        RecoveryPoint row;
        await using (var db = database.Factory.CreateDbContext())
            row = await db.RecoveryPoints.SingleAsync(p => p.ItemId == item.Item.Id);
        Assert.Null(row.ImmutableUntil);

        await host.Services.GetRequiredService<RetentionRunner>().RunVaultAsync(vault.Id, CancellationToken.None);

        await using (var db = database.Factory.CreateDbContext())
            row = await db.RecoveryPoints.SingleAsync(p => p.ItemId == item.Item.Id);
        Assert.Equal(row.RetainUntil, row.ImmutableUntil);
        using var engine = await host.Services.GetRequiredService<VaultKeys>().OpenAsync(vault.Id, vault.Name, vault.Region);
        await Assert.ThrowsAsync<Portal.Engine.SnapshotRetainedException>(() => engine.ForgetAsync([point.SnapshotId]));
    }

    [Fact]
    public async Task Unlocked_immutability_turns_off_again_and_locking_is_approved_by_a_second_contributor_and_irreversible()
    {
        var (vault, _) = await NewVaultAsync();
        vault = (await Vaults(ann).SetImmutabilityAsync(vault.Id, vault.Version, VaultImmutability.Enabled)).Vault;
        vault = (await Vaults(ann).SetImmutabilityAsync(vault.Id, vault.Version, VaultImmutability.Disabled)).Vault;
        Assert.Equal(VaultImmutability.Disabled, vault.Immutability);

        var notYet = await Assert.ThrowsAsync<PortalConflictException>(() =>
            Vaults(ann).SetImmutabilityAsync(vault.Id, vault.Version, VaultImmutability.Locked, "finance"));
        Assert.Contains("Make vault finance immutable first", notYet.Message);

        vault = (await Vaults(ann).SetImmutabilityAsync(vault.Id, vault.Version, VaultImmutability.Enabled)).Vault;
        var untyped = await Assert.ThrowsAsync<PortalValidationException>(() =>
            Vaults(ann).SetImmutabilityAsync(vault.Id, vault.Version, VaultImmutability.Locked, "Finance"));
        Assert.Contains("Locking cannot be undone", untyped.Errors["ConfirmName"]);

        var asked = await Vaults(ann).SetImmutabilityAsync(vault.Id, vault.Version, VaultImmutability.Locked, "finance");
        Assert.True(asked.ApprovalRequested);
        Assert.Equal(VaultImmutability.Enabled, asked.Vault.Immutability); // not locked until approved
        var request = Assert.Single(await Approvals(bob).ListAsync(), r => r.Status == ApprovalStatus.Pending);
        Assert.Contains("Lock the immutability of vault finance: irreversible", request.Summary);
        await Assert.ThrowsAsync<PortalConflictException>(() => Approvals(ann).ApproveAsync(request.Id));
        await Approvals(bob).ApproveAsync(request.Id);

        vault = await VaultAsync();
        Assert.Equal(VaultImmutability.Locked, vault.Immutability);
        var off = await Assert.ThrowsAsync<PortalConflictException>(() => Vaults(ann).SetImmutabilityAsync(vault.Id, vault.Version, VaultImmutability.Disabled));
        Assert.Contains("locked: it cannot be changed or turned off", off.Message);
        Assert.Equal(VaultImmutability.Locked, (await VaultAsync()).Immutability);

        var log = (await host.ActAs(ann).GetRequiredService<AuditLog>().QueryAsync(new AuditQuery())).Items;
        Assert.Equal(3, log.Count(a => a.Action == AuditActions.VaultSetImmutability && a.Outcome == AuditOutcome.Succeeded));
        var locked = Assert.Single(log, a => a.Action == AuditActions.VaultLockImmutability);
        Assert.Equal(("Bob", "vault/finance"), (locked.ActorName, locked.Resource));
        Assert.Contains("Requested by Ann, approved by Bob", locked.Detail);
    }
}
