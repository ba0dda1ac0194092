using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Engine.Repository;
using Portal.Features.Audit;
using Portal.Features.Common;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Protection;
using Portal.Features.Regions;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Integration;

/// <summary>
/// Vault maintenance (issue 23): the vault's repository locks are listed with who holds them and whether they are
/// stale; breaking removes stale ones, a live one only with force; "Repair the index" rebuilds a lost index from the
/// packs. Backup.Contributor only, audited.
/// </summary>
public sealed class VaultMaintenanceTests : ProtectionHostTest
{
    private VaultMaintenance Locks(System.Security.Claims.ClaimsPrincipal user) => host.ActAs(user).GetRequiredService<VaultMaintenance>();

    /// <summary>A vault whose repository holds a backup, and a lock planted as another machine's running backup (live) or one that stopped refreshing an hour ago (stale).</summary>
    private async Task<Guid> VaultWithLockAsync(bool live)
    {
        var (vault, policy) = await NewVaultAsync();
        var folder = Path.Combine(host.SourceRoot, "share");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "a.txt"), "alpha");
        var item = await host.Protection(ann).ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "share", folder, null, null, Passphrase, Passphrase));
        var job = await host.Protection(ann).BackUpNowAsync(item.Item.Id, DateTime.UtcNow.AddDays(30));
        Assert.Equal(JobStatus.Completed, (await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished())).Status);
        var store = host.Services.GetRequiredService<RegionStores>().Vault(vault.Id, vault.Region, vault.Name);
        using var repo = await Repo.OpenAsync(store, Passphrase, TimeProvider.System, "test", default);
        await repo.SaveJsonAsync(Repo.LocksPrefix, new LockFile
        {
            Exclusive = false, Operation = "backup", Host = "srv-web-07", Pid = 4242,
            Time = live ? DateTimeOffset.UtcNow : DateTimeOffset.UtcNow.AddHours(-1),
        }, RepoJson.Default.LockFile, default);
        return vault.Id;
    }

    [Fact]
    public async Task A_live_lock_of_another_machine_is_kept_unless_forced_and_both_breaks_are_audited()
    {
        var vaultId = await VaultWithLockAsync(live: true);

        var listed = Assert.Single(await Locks(ann).ListLocksAsync(vaultId));
        Assert.Equal("the portal host's repository", listed.Repository);
        var held = Assert.Single(listed.Locks);
        Assert.StartsWith("backup on srv-web-07 (pid 4242) since ", VaultMaintenance.Describe(held));
        Assert.EndsWith(", live", VaultMaintenance.Describe(held));

        var kept = await Locks(ann).BreakLocksAsync(vaultId, force: false);
        Assert.Equal((0, 1), (kept.Removed, kept.KeptLive));
        Assert.Contains("Break them with force only if you know they are dead.", kept.Message);
        Assert.Single(Assert.Single(await Locks(ann).ListLocksAsync(vaultId)).Locks);

        var forced = await Locks(ann).BreakLocksAsync(vaultId, force: true);
        Assert.Equal((1, 0, "Removed 1 lock(s)."), (forced.Removed, forced.KeptLive, forced.Message));
        Assert.Empty(Assert.Single(await Locks(ann).ListLocksAsync(vaultId)).Locks);

        await using var db = database.Factory.CreateDbContext();
        var audit = await db.AuditEntries.Where(a => a.Action == AuditActions.VaultBreakLock && a.Outcome == AuditOutcome.Succeeded).OrderBy(a => a.At).ToListAsync();
        Assert.Equal(2, audit.Count);
        Assert.Contains("kept live: backup on srv-web-07 (pid 4242)", audit[0].Detail);
        Assert.StartsWith("forced; removed backup on srv-web-07 (pid 4242)", audit[1].Detail);
    }

    [Fact]
    public async Task A_stale_lock_is_removed_without_force_and_only_a_contributor_may_break_locks()
    {
        var vaultId = await VaultWithLockAsync(live: false);
        Assert.Contains("stale: ", VaultMaintenance.Describe(Assert.Single(Assert.Single(await Locks(ann).ListLocksAsync(vaultId)).Locks)));

        foreach (var role in new[] { PortalRoles.Operator, PortalRoles.Reader, PortalRoles.RestoreOperator })
            await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Locks(TestUsers.WithRoles("Someone", role)).BreakLocksAsync(vaultId, force: true));
        Assert.Single(Assert.Single(await Locks(ann).ListLocksAsync(vaultId)).Locks);

        var broken = await Locks(ann).BreakLocksAsync(vaultId, force: false);
        Assert.Equal((1, 0), (broken.Removed, broken.KeptLive));
        Assert.Empty(Assert.Single(await Locks(ann).ListLocksAsync(vaultId)).Locks);
    }

    [Fact]
    public async Task Repair_the_index_rebuilds_a_lost_index_from_the_packs_so_the_check_passes_again_and_restores_work()
    {
        var vaultId = await VaultWithLockAsync(live: false);
        await Locks(ann).BreakLocksAsync(vaultId, force: false);
        var indexes = Directory.GetDirectories(Path.Combine(root, "regions", "east"))
            .Select(replica => Path.Combine(replica, "vaults", vaultId.ToString("N"), "index")).Where(Directory.Exists).ToList();
        Assert.NotEmpty(indexes);
        foreach (var index in indexes)
            Directory.Delete(index, recursive: true); // every copy of the index is gone
        var broken = await host.Protection(ann).CheckVaultAsync(vaultId, readData: false);
        Assert.Equal(JobStatus.Failed, (await host.WaitForJobAsync(broken.Id, j => j.Status.IsFinished())).Status);

        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Locks(TestUsers.WithRoles("Olga", PortalRoles.Operator)).RepairIndexAsync(vaultId));
        var repair = await Locks(ann).RepairIndexAsync(vaultId);
        var done = await host.WaitForJobAsync(repair.Id, j => j.Status.IsFinished());

        Assert.Equal((JobKind.Repair, JobStatus.Completed), (done.Kind, done.Status));
        Assert.StartsWith("the portal host's repository: ", done.Message);
        Assert.Contains("pack(s) and", done.Message);
        var check = await host.Protection(ann).CheckVaultAsync(vaultId, readData: true);
        Assert.Equal(JobStatus.Completed, (await host.WaitForJobAsync(check.Id, j => j.Status.IsFinished())).Status);
    }
}
