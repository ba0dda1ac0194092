using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Portal.Features.Approvals;
using Portal.Features.Audit;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Policies;
using Portal.Features.Protection;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;
using Portal.Tests.Machines;

namespace Portal.Tests.Integration;

/// <summary>The retention run over weeks of an injected clock: expired points leave the repository, soft-deleted data is purged on time.</summary>
public sealed class RetentionRunTests : ProtectionHostTest
{
    private readonly FakeTimeProvider clock;
    private readonly System.Security.Claims.ClaimsPrincipal bob = TestUsers.WithRoles("Bob", PortalRoles.Contributor);
    private Guid vaultId;
    private Guid itemId;

    public RetentionRunTests()
        : this(new FakeTimeProvider(new DateTimeOffset(2026, 1, 5, 12, 0, 0, TimeSpan.Zero)))
    {
    }

    private RetentionRunTests(FakeTimeProvider clock)
        : base(clock) => this.clock = clock;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var (vault, policy) = await NewVaultAsync(); // DefaultPolicy: daily points kept 30 days
        vaultId = vault.Id;
        var folder = Path.Combine(host.SourceRoot, "share");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "a.txt"), "day 0");
        itemId = (await host.Protection(ann).ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "share", folder, null, null, Passphrase, Passphrase))).Item.Id;
    }

    private Backups Runner => host.Services.GetRequiredService<Backups>();
    private RetentionRunner Retention => host.Services.GetRequiredService<RetentionRunner>();

    private async Task<IReadOnlyList<string>> SnapshotsAsync()
    {
        using var engine = await host.Services.GetRequiredService<VaultKeys>().OpenAsync(vaultId, "finance", "east");
        return [.. (await engine.ListSnapshotsAsync()).Select(s => s.Id)];
    }

    [Fact]
    public async Task A_point_taken_in_an_immutable_vault_outlives_a_later_retention_cut_and_the_engine_refuses_to_forget_it_early()
    {
        var vaults = host.ActAs(ann).GetRequiredService<VaultService>();
        var vault = (await vaults.GetAsync("finance"))!;
        vault = (await vaults.SetImmutabilityAsync(vault.Id, vault.Version, VaultImmutability.Enabled)).Vault;
        await Runner.RunScheduledAsync(itemId, CancellationToken.None);          // day 0: kept 30 days by DefaultPolicy, immutably
        var point = Assert.Single((await host.Protection(ann).GetAsync(itemId))!.RecoveryPoints);
        var keepUntil = clock.GetUtcNow().AddDays(30);
        using (var engine = await host.Services.GetRequiredService<VaultKeys>().OpenAsync(vaultId, "finance", "east"))
        {
            Assert.Equal(keepUntil, (await engine.ListSnapshotsAsync()).Single().KeepUntil);
            var refused = await Assert.ThrowsAsync<Portal.Engine.SnapshotRetainedException>(() => engine.ForgetAsync([point.SnapshotId]));
            Assert.Contains($"snapshot {point.SnapshotId[..8]} must be kept until {keepUntil.UtcDateTime:yyyy-MM-dd HH:mm} UTC", refused.Message);
        }

        // Immutability turned off, then the retention cut to 7 days with a second contributor: the point still keeps its 30 days.
        await vaults.SetImmutabilityAsync(vault.Id, vault.Version, VaultImmutability.Disabled);
        var policies = host.ActAs(ann).GetRequiredService<PolicyService>();
        var policy = Assert.Single(await policies.ListAsync(vaultId));
        Assert.True((await policies.UpdateAsync(policy.Id, policy.Version, policy.Definition with { Retention = new(DailyDays: 7) })).ApprovalRequested);
        var approvals = host.ActAs(bob).GetRequiredService<ApprovalService>();
        await approvals.ApproveAsync(Assert.Single(await approvals.ListAsync()).Id);
        clock.Advance(TimeSpan.FromDays(10));

        Assert.Equal(0, await Retention.RunVaultAsync(vaultId, CancellationToken.None));
        Assert.Equal(keepUntil.UtcDateTime, Assert.Single((await host.Protection(ann).GetAsync(itemId))!.RecoveryPoints).ExpiresAt);

        clock.Advance(TimeSpan.FromDays(21));                                    // day 31: its time has come
        await Runner.RunScheduledAsync(itemId, CancellationToken.None);
        Assert.Equal(1, await Retention.RunVaultAsync(vaultId, CancellationToken.None));
        Assert.DoesNotContain(point.SnapshotId, await SnapshotsAsync());
    }

    [Fact]
    public async Task Expired_points_leave_the_vault_and_the_rest_get_their_expiry_while_on_demand_points_keep_their_date()
    {
        await Runner.RunScheduledAsync(itemId, CancellationToken.None);          // day 0
        clock.Advance(TimeSpan.FromDays(1));
        await Runner.RunScheduledAsync(itemId, CancellationToken.None);          // day 1
        await Runner.RunOnDemandAsync(itemId, clock.GetUtcNow().UtcDateTime.AddDays(90), "Ann", CancellationToken.None);
        clock.Advance(TimeSpan.FromDays(34));
        await Runner.RunScheduledAsync(itemId, CancellationToken.None);          // day 35
        Assert.Equal(4, (await SnapshotsAsync()).Count);

        Assert.Equal(2, await Retention.RunVaultAsync(vaultId, CancellationToken.None));

        var points = (await host.Protection(ann).GetAsync(itemId))!.RecoveryPoints;
        Assert.Equal(2, points.Count);
        Assert.Equal(points.Select(p => p.SnapshotId).Order(), (await SnapshotsAsync()).Order());
        var daily = points.Single(p => p.Type == RecoveryPointType.Scheduled);
        Assert.Equal(clock.GetUtcNow().UtcDateTime.AddDays(30).Date, daily.ExpiresAt!.Value.Date);
        Assert.Equal(RecoveryPointType.OnDemand, points.Single(p => p != daily).Type);
        await using var db = database.Factory.CreateDbContext();
        var job = await db.Jobs.SingleAsync(j => j.Kind == JobKind.Retention);
        Assert.Equal(JobStatus.Completed, job.Status);
        Assert.Contains("Removed 2 recovery point(s)", job.Message);

        Assert.Equal(0, await Retention.RunVaultAsync(vaultId, CancellationToken.None)); // nothing more: no new job
        Assert.Equal(1, await db.Jobs.CountAsync(j => j.Kind == JobKind.Retention));
    }

    [Fact]
    public async Task The_policy_preview_names_the_existing_points_a_shorter_retention_would_remove()
    {
        foreach (var day in new[] { 0, 10, 20 })
        {
            if (day > 0) clock.Advance(TimeSpan.FromDays(10));
            await Runner.RunScheduledAsync(itemId, CancellationToken.None);
        }

        var policies = host.ActAs(ann).GetRequiredService<PolicyService>();
        var policy = (await policies.ListAsync(vaultId)).Single();
        var same = await policies.PreviewAsync(policy.Id, policy.Definition);
        Assert.Equal(0, same.Removed);
        Assert.Equal(3, same.Items.Single().Kept);

        var shorter = await policies.PreviewAsync(policy.Id, policy.Definition with { Retention = new Portal.Engine.Retention.RetentionPolicy(DailyDays: 7) });
        var item = shorter.Items.Single();
        Assert.Equal("share", item.ItemName);
        Assert.Equal(1, item.Kept);
        Assert.Equal([new DateTime(2026, 1, 5, 12, 0, 0), new DateTime(2026, 1, 15, 12, 0, 0)], item.Removed);
        Assert.Equal(3, (await SnapshotsAsync()).Count); // a preview changes nothing
    }

    [Fact]
    public async Task A_stopped_item_keeps_its_latest_point_forever()
    {
        await Runner.RunScheduledAsync(itemId, CancellationToken.None);
        clock.Advance(TimeSpan.FromDays(1));
        await Runner.RunScheduledAsync(itemId, CancellationToken.None);
        await host.Protection(ann).StopProtectionAsync(itemId, (await host.Protection(ann).GetAsync(itemId))!.Version);
        clock.Advance(TimeSpan.FromDays(400));

        Assert.Equal(1, await Retention.RunVaultAsync(vaultId, CancellationToken.None));
        var kept = Assert.Single((await host.Protection(ann).GetAsync(itemId))!.RecoveryPoints);
        Assert.Null(kept.ExpiresAt);
        Assert.Single(await SnapshotsAsync());
    }

    [Fact]
    public async Task Soft_deleted_data_stays_for_the_vault_soft_delete_days_and_is_purged_after()
    {
        await Runner.RunScheduledAsync(itemId, CancellationToken.None);
        var item = (await host.Protection(ann).GetAsync(itemId))!;
        await host.Protection(ann).RequestStopAndDeleteAsync(itemId, item.Version, "share");
        var approvals = host.ActAs(bob).GetRequiredService<ApprovalService>();
        await approvals.ApproveAsync((await approvals.ListAsync(itemId)).Single().Id);

        clock.Advance(TimeSpan.FromDays(13));
        Assert.Equal(0, await Retention.RunVaultAsync(vaultId, CancellationToken.None));
        Assert.Single(await SnapshotsAsync()); // still undeletable

        clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1));
        Assert.Equal(1, await Retention.RunVaultAsync(vaultId, CancellationToken.None));
        Assert.Empty(await SnapshotsAsync());
        Assert.Null(await host.Protection(ann).GetAsync(itemId));
        await using var db = database.Factory.CreateDbContext();
        var purge = await db.AuditEntries.SingleAsync(a => a.Action == AuditActions.ItemPurge);
        Assert.Equal("vault/finance/item/share", purge.Resource);
        await host.ActAs(ann).GetRequiredService<VaultService>().RequestDeleteAsync(vaultId, (await db.Vaults.SingleAsync()).Version, "finance"); // the vault is empty now
    }

    [Fact]
    public async Task A_machine_whose_key_never_reached_the_vault_keeps_its_expired_points_while_the_rest_of_the_vault_is_cleaned()
    {
        await Runner.RunScheduledAsync(itemId, CancellationToken.None);          // day 0
        var machine = await database.AddMachineAsync(vaultId, "web-01", clock.GetUtcNow().UtcDateTime); // registered, key never escrowed
        var machineItem = await database.AddItemAsync(vaultId, machine.Id, "web-01-share");
        await using (var seed = database.Factory.CreateDbContext())
        {
            var item = await seed.BackupItems.SingleAsync(i => i.Id == machineItem.Id);
            item.PolicyId = (await seed.BackupItems.SingleAsync(i => i.Id == itemId)).PolicyId;
            seed.RecoveryPoints.Add(new RecoveryPoint
            {
                Id = Guid.CreateVersion7(), ItemId = item.Id, VaultId = vaultId, SnapshotId = new string('a', 64),
                CreatedAt = clock.GetUtcNow().UtcDateTime, Type = RecoveryPointType.Scheduled,
            });
            await seed.SaveChangesAsync();
        }

        clock.Advance(TimeSpan.FromDays(1));
        await Runner.RunScheduledAsync(itemId, CancellationToken.None);          // day 1
        clock.Advance(TimeSpan.FromDays(34));
        await Runner.RunScheduledAsync(itemId, CancellationToken.None);          // day 35

        Assert.Equal(3, await Retention.RunVaultAsync(vaultId, CancellationToken.None));

        // The portal host's expired points are gone from the repository and the catalog; the machine's point waits.
        Assert.Single(await SnapshotsAsync());
        Assert.Single((await host.Protection(ann).GetAsync(itemId))!.RecoveryPoints);
        await using var db = database.Factory.CreateDbContext();
        Assert.Equal(new string('a', 64), (await db.RecoveryPoints.SingleAsync(p => p.ItemId == machineItem.Id)).SnapshotId);
        var job = await db.Jobs.SingleAsync(j => j.Kind == JobKind.Retention);
        Assert.Equal(JobStatus.CompletedWithWarnings, job.Status);
        Assert.StartsWith("Removed 2 recovery point(s)", job.Message);
        Assert.Contains("1 expired recovery point(s) of a machine's items stay until the next run", job.Message);
        Assert.Contains("web-01", job.Message);
    }
}
