using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Data;
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

/// <summary>Protection end to end on real PostgreSQL, real folders and the real clustered Quartz scheduler.</summary>
public sealed class ProtectionTests : ProtectionHostTest
{
    private readonly System.Security.Claims.ClaimsPrincipal bob = TestUsers.WithRoles("Bob", PortalRoles.Contributor);

    private string Source(string name, int files = 3)
    {
        var folder = Path.Combine(host.SourceRoot, name);
        Directory.CreateDirectory(Path.Combine(folder, "docs"));
        for (var i = 0; i < files; i++)
            File.WriteAllText(Path.Combine(folder, "docs", $"file-{i}.txt"), $"contents of file {i} " + new string('x', i * 100));
        return folder;
    }

    private async Task<ItemDetails> ProtectAsync(string name = "share", string? passphrase = Passphrase)
    {
        var (vault, policy) = await NewVaultAsync();
        return await host.Protection(ann).ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, name, Source(name), null, ["*.tmp"], passphrase, passphrase));
    }

    [Fact]
    public async Task The_first_protection_of_a_vault_asks_for_a_passphrase_typed_twice_and_keeps_only_a_sealed_key()
    {
        var (vault, policy) = await NewVaultAsync();
        var protection = host.Protection(ann);
        Assert.True(await protection.NeedsPassphraseAsync(vault.Id));

        var missing = await Assert.ThrowsAsync<PortalValidationException>(() =>
            protection.ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "share", Source("share"))));
        Assert.Contains("passphrase", missing.Errors["Passphrase"]);
        var shortOne = await Assert.ThrowsAsync<PortalValidationException>(() =>
            protection.ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "share", Source("share"), null, null, "too short", "too short")));
        Assert.Contains("at least 16", shortOne.Errors["Passphrase"]);
        var differ = await Assert.ThrowsAsync<PortalValidationException>(() =>
            protection.ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "share", Source("share"), null, null, Passphrase, Passphrase + "!")));
        Assert.Contains("differ", differ.Errors["ConfirmPassphrase"]);

        var item = await protection.ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "share", Source("share"), null, null, Passphrase, Passphrase));
        Assert.Equal(ProtectionState.Protected, item.Item.State);
        Assert.False(await protection.NeedsPassphraseAsync(vault.Id));

        // Neither the passphrase nor the plain key is in the database: only the Data Protection envelope.
        await using var db = database.Factory.CreateDbContext();
        var key = await db.VaultKeys.SingleAsync();
        Assert.DoesNotContain(Passphrase, Encoding.UTF8.GetString(key.SealedKey));
        Assert.True(key.SealedKey.Length > 60);
        var dump = string.Join("\n", await db.AuditEntries.Select(a => a.Detail ?? "").ToListAsync());
        Assert.DoesNotContain(Passphrase, dump);

        // A second item in the same vault does not ask again.
        var second = await protection.ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "second", Source("second")));
        Assert.Equal("second", second.Item.Name);
    }

    [Fact]
    public async Task A_portal_host_with_another_key_ring_cannot_open_the_vault_until_the_passphrase_unlocks_it_again()
    {
        var item = await ProtectAsync();
        await host.DisposeAsync(); // the old host stops (it would still hold its key ring in memory) …
        Directory.Delete(Path.Combine(root, "keys"), recursive: true);
        var other = host = await ProtectionHost.StartAsync(database, root); // … and a new one with a fresh key ring takes over

        var failed = await other.Protection(ann).BackUpNowAsync(item.Item.Id, DateTime.UtcNow.AddDays(30));
        var done = await other.WaitForJobAsync(failed.Id, j => j.Status.IsFinished());
        Assert.Equal(JobStatus.Failed, done.Status);
        Assert.Contains("cannot unseal the key of vault finance", done.Message);

        var wrong = await Assert.ThrowsAsync<PortalValidationException>(() => other.Protection(ann).UnlockVaultAsync(item.Item.VaultId, "not the passphrase at all"));
        Assert.Contains("not the passphrase of vault finance", wrong.Errors["Passphrase"]);
        await other.Protection(ann).UnlockVaultAsync(item.Item.VaultId, Passphrase);
        var again = await other.Protection(ann).BackUpNowAsync(item.Item.Id, DateTime.UtcNow.AddDays(30));
        Assert.Equal(JobStatus.Completed, (await other.WaitForJobAsync(again.Id, j => j.Status.IsFinished())).Status);
    }

    [Fact]
    public async Task A_folder_outside_the_source_roots_or_missing_is_refused_with_the_reason()
    {
        var (vault, policy) = await NewVaultAsync();
        var protection = host.Protection(ann);
        var outside = await Assert.ThrowsAsync<PortalValidationException>(() =>
            protection.ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "etc", "/etc", null, null, Passphrase, Passphrase)));
        Assert.Contains("outside the folders", outside.Errors["SourcePath"]);
        var link = Path.Combine(host.SourceRoot, "sneaky");
        Directory.CreateSymbolicLink(link, "/etc");
        var viaLink = await Assert.ThrowsAsync<PortalValidationException>(() =>
            protection.ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "sneaky", link, null, null, Passphrase, Passphrase)));
        Assert.Contains("outside the folders", viaLink.Errors["SourcePath"]);
        var missing = await Assert.ThrowsAsync<PortalValidationException>(() =>
            protection.ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "gone", Path.Combine(host.SourceRoot, "gone"), null, ["../x"], Passphrase, Passphrase)));
        Assert.Contains("does not exist", missing.Errors["SourcePath"]);
        Assert.Contains("..", missing.Errors["Exclude"]);
        Assert.True(await protection.NeedsPassphraseAsync(vault.Id)); // nothing was kept
    }

    [Theory]
    [InlineData(PortalRoles.Contributor, "Configure,Update,CancelJob,BackUpNow,Stop,Resume,RequestDelete,Undelete")]
    [InlineData(PortalRoles.Operator, "Configure,Update,CancelJob,BackUpNow,Stop,Resume,Undelete")]
    [InlineData(PortalRoles.Reader, "")]
    [InlineData(PortalRoles.RestoreOperator, "")]
    public async Task Each_role_may_change_protection_exactly_as_the_roles_table_says(string role, string allowedList)
    {
        var allowed = allowedList.Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        var item = await ProtectAsync();
        var policy = item.PolicyId!.Value;
        var caller = TestUsers.WithRoles("Caller", role);
        var queued = await TestJobs.QueuedAsync(database, JobKind.Backup, item.Item.VaultId, item.Item.Id); // no operation: no executor picks it up
        async Task<uint> Version() => (await host.Protection(ann).GetAsync(item.Item.Id))!.Version;
        async Task SetStateAsync(ProtectionState state)
        {
            await using var db = database.Factory.CreateDbContext();
            await db.BackupItems.Where(i => i.Id == item.Item.Id).ExecuteUpdateAsync(x => x.SetProperty(i => i.State, state)
                .SetProperty(i => i.SoftDeletedAt, state == ProtectionState.SoftDeleted ? DateTime.UtcNow : null));
        }

        var operations = new (string Name, ProtectionState Before, Func<Task> Call)[]
        {
            ("Configure", ProtectionState.Protected, () => host.Protection(caller).ConfigureAsync(
                new ConfigureProtectionRequest(item.Item.VaultId, policy, "other", Source("other")))),
            ("Update", ProtectionState.Protected, async () => { var v = await Version(); await host.Protection(caller).UpdateAsync(item.Item.Id, v, policy, null, ["*.bak"]); }),
            ("CancelJob", ProtectionState.Protected, () => host.ActAs(caller).GetRequiredService<JobQueries>().CancelAsync(queued.Id)),
            ("BackUpNow", ProtectionState.Protected, async () =>
            {
                var job = await host.Protection(caller).BackUpNowAsync(item.Item.Id, DateTime.UtcNow.AddDays(30));
                await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished()); // before the next operation changes the item
            }),
            ("Stop", ProtectionState.Protected, async () => { var v = await Version(); await host.Protection(caller).StopProtectionAsync(item.Item.Id, v); }),
            ("Resume", ProtectionState.ProtectionStopped, async () => { var v = await Version(); await host.Protection(caller).ResumeAsync(item.Item.Id, v); }),
            ("RequestDelete", ProtectionState.Protected, async () => { var v = await Version(); await host.Protection(caller).RequestStopAndDeleteAsync(item.Item.Id, v, "share"); }),
            ("Undelete", ProtectionState.SoftDeleted, async () => { var v = await Version(); await host.Protection(caller).UndeleteAsync(item.Item.Id, v); }),
        };
        foreach (var (name, before, call) in operations)
        {
            await SetStateAsync(before);
            if (allowed.Contains(name))
            {
                await call();
            }
            else
            {
                var refusal = await Assert.ThrowsAsync<PortalAccessDeniedException>(call);
                Assert.Contains("role", refusal.Message);
            }
        }

        await using var check = database.Factory.CreateDbContext();
        Assert.Equal(allowed.Contains("Configure") ? 2 : 1, await check.BackupItems.CountAsync());
        Assert.Equal(allowed.Contains("BackUpNow") ? 2 : 1, await check.Jobs.CountAsync(j => j.ItemId == item.Item.Id));
    }

    [Fact]
    public async Task Back_up_now_runs_as_a_job_and_makes_a_recovery_point_that_excludes_the_patterns()
    {
        var item = await ProtectAsync();
        File.WriteAllText(Path.Combine(host.SourceRoot, "share", "scratch.tmp"), "not backed up");

        var job = await host.Protection(ann).BackUpNowAsync(item.Item.Id, DateTime.UtcNow.AddDays(30));
        Assert.Equal(JobStatus.Queued, job.Status);
        var done = await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished());

        Assert.Equal(JobStatus.Completed, done.Status);
        Assert.Equal(item.Item.Id, done.ItemId);
        var details = (await host.Protection(ann).GetAsync(item.Item.Id))!;
        var point = Assert.Single(details.RecoveryPoints);
        Assert.Equal(RecoveryPointType.OnDemand, point.Type);
        Assert.Equal(3, point.Files);
        Assert.NotNull(point.RetainUntil);
        Assert.Equal(JobStatus.Completed, details.Item.LastBackupStatus);
        Assert.Equal(ItemHealth.Healthy, details.Item.Health);
        var log = await host.ActAs(ann).GetRequiredService<JobQueries>().LogAsync(job.Id);
        Assert.Contains(log, l => l.Text.Contains("Recovery point") && l.Text.Contains("3 files"));

        // The data is in the vault's repository, readable with the sealed key.
        using var engine = await host.Services.GetRequiredService<VaultKeys>().OpenAsync(item.Item.VaultId, "finance", "east");
        var files = (await engine.ListTreeAsync(point.SnapshotId)).Select(e => e.Path).ToList();
        Assert.Contains("docs/file-0.txt", files);
        Assert.DoesNotContain("scratch.tmp", files);
    }

    [Fact]
    public async Task A_vault_check_passes_on_good_data_and_names_the_damage_when_a_pack_is_corrupt_in_every_copy()
    {
        var item = await ProtectAsync();
        var backup = await host.Protection(ann).BackUpNowAsync(item.Item.Id, DateTime.UtcNow.AddDays(30));
        await host.WaitForJobAsync(backup.Id, j => j.Status.IsFinished());

        var good = await host.Protection(ann).CheckVaultAsync(item.Item.VaultId, readData: true);
        var goodDone = await host.WaitForJobAsync(good.Id, j => j.Status.IsFinished());
        Assert.Equal((JobKind.Check, JobStatus.Completed), (goodDone.Kind, goodDone.Status));
        Assert.Contains("No problems", goodDone.Message);

        var vaultFolder = $"vaults/{item.Item.VaultId:N}/data";
        var packs = Directory.GetDirectories(Path.Combine(root, "regions", "east"))
            .SelectMany(replica => Directory.Exists(Path.Combine(replica, vaultFolder)) ? Directory.GetFiles(Path.Combine(replica, vaultFolder), "*", SearchOption.AllDirectories) : [])
            .GroupBy(Path.GetFileName).First();
        foreach (var copy in packs)
        {
            var bytes = File.ReadAllBytes(copy);
            bytes[bytes.Length / 2] ^= 0xFF;
            File.WriteAllBytes(copy, bytes);
        }

        var bad = await host.Protection(ann).CheckVaultAsync(item.Item.VaultId, readData: true);
        var badDone = await host.WaitForJobAsync(bad.Id, j => j.Status.IsFinished());
        Assert.Equal(JobStatus.Failed, badDone.Status);
        Assert.Contains("damaged or missing", badDone.Message);
        var log = await host.ActAs(ann).GetRequiredService<JobQueries>().LogAsync(bad.Id);
        Assert.Contains(log, l => l.Level == JobLogLevel.Error && l.Text.Contains(packs.Key!));
    }

    [Fact]
    public async Task A_backup_of_a_removed_folder_fails_with_what_to_do_and_the_item_turns_failed()
    {
        var item = await ProtectAsync();
        Directory.Delete(Path.Combine(host.SourceRoot, "share"), recursive: true);

        var job = await host.Protection(ann).BackUpNowAsync(item.Item.Id, DateTime.UtcNow.AddDays(30));
        var done = await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished());

        Assert.Equal(JobStatus.Failed, done.Status);
        Assert.Contains("does not exist on the portal host", done.Message);
        var details = (await host.Protection(ann).GetAsync(item.Item.Id))!;
        Assert.Equal(ItemHealth.Failed, details.Item.Health);
        Assert.Empty(details.RecoveryPoints);
    }

    [Fact]
    public async Task Retry_runs_a_failed_backup_again_for_the_same_item_checks_the_role_and_is_audited()
    {
        var item = await ProtectAsync();
        var folder = Path.Combine(host.SourceRoot, "share");
        Directory.Move(folder, folder + ".away");
        var keepUntil = DateTime.UtcNow.Date.AddDays(40);
        var failed = await host.WaitForJobAsync((await host.Protection(ann).BackUpNowAsync(item.Item.Id, keepUntil)).Id, j => j.Status.IsFinished());
        Assert.Equal(JobStatus.Failed, failed.Status);
        Directory.Move(folder + ".away", folder); // the operator fixes the cause, then retries

        var reader = TestUsers.WithRoles("Rita", PortalRoles.Reader);
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => host.Protection(reader).RetryAsync(failed.Id));

        var retry = await host.Protection(ann).RetryAsync(failed.Id);
        Assert.NotEqual(failed.Id, retry.Id);
        Assert.Equal((JobKind.Backup, item.Item.Id), (retry.Kind, retry.ItemId));
        var done = await host.WaitForJobAsync(retry.Id, j => j.Status.IsFinished());
        Assert.Equal(JobStatus.Completed, done.Status);
        var point = Assert.Single((await host.Protection(ann).GetAsync(item.Item.Id))!.RecoveryPoints);
        Assert.Equal(RecoveryPointType.OnDemand, point.Type);
        Assert.Equal(keepUntil, point.RetainUntil); // the same kind of point as the failed job was to make

        var again = await Assert.ThrowsAsync<PortalConflictException>(() => host.Protection(ann).RetryAsync(retry.Id));
        Assert.Equal("Only a failed backup can be retried: this one is completed.", again.Message);
        await using var db = database.Factory.CreateDbContext();
        var audited = await db.AuditEntries.Where(a => a.Action == AuditActions.ItemBackupRetry).OrderBy(a => a.Id).ToListAsync();
        Assert.Equal([AuditOutcome.Refused, AuditOutcome.Succeeded, AuditOutcome.Refused], audited.Select(a => a.Outcome)); // the reader, the retry, the completed job
        Assert.Contains($"retry of job {failed.Id}", audited[1].Detail);
    }

    [Fact]
    public async Task A_cancelled_backup_ends_cancelled_without_a_point_and_the_next_backup_reuses_what_it_uploaded()
    {
        var item = await ProtectAsync();
        var big = Path.Combine(host.SourceRoot, "share", "big");
        Directory.CreateDirectory(big);
        var random = new Random(7);
        for (var i = 0; i < 60; i++)
        {
            var data = new byte[4 * 1024 * 1024];
            random.NextBytes(data);
            File.WriteAllBytes(Path.Combine(big, $"part-{i:00}.bin"), data);
        }

        var job = await host.Protection(ann).BackUpNowAsync(item.Item.Id, DateTime.UtcNow.AddDays(30));
        // Cancel once several 16 MiB packs must be in the vault (two packers work at once).
        await host.WaitForJobAsync(job.Id, j => j.Status == JobStatus.InProgress && j.BytesDone >= 96L * 1024 * 1024 || j.Status.IsFinished());
        Assert.True(await host.ActAs(ann).GetRequiredService<JobQueries>().CancelAsync(job.Id));
        var cancelled = await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished());

        Assert.Equal(JobStatus.Cancelled, cancelled.Status);
        Assert.Contains("next backup reuses it", cancelled.Message);
        Assert.Empty((await host.Protection(ann).GetAsync(item.Item.Id))!.RecoveryPoints);

        var again = await host.Protection(ann).BackUpNowAsync(item.Item.Id, DateTime.UtcNow.AddDays(30));
        Assert.Equal(JobStatus.Completed, (await host.WaitForJobAsync(again.Id, j => j.Status.IsFinished())).Status);
        var point = Assert.Single((await host.Protection(ann).GetAsync(item.Item.Id))!.RecoveryPoints);
        Assert.True(point.BytesAdded < point.Bytes * 0.8, $"the second backup added {point.BytesAdded} of {point.Bytes} bytes: it should reuse the cancelled one's packs");
    }

    [Fact]
    public async Task Stop_protection_with_delete_needs_a_second_contributor_then_undelete_and_resume_bring_it_back()
    {
        var item = await ProtectAsync();
        var protection = host.Protection(ann);
        await Assert.ThrowsAsync<PortalValidationException>(() => protection.RequestStopAndDeleteAsync(item.Item.Id, item.Version, "wrong name"));
        await protection.RequestStopAndDeleteAsync(item.Item.Id, item.Version, "share");
        Assert.Equal(ProtectionState.Protected, (await protection.GetAsync(item.Item.Id))!.Item.State); // nothing happens before approval

        var approvals = host.ActAs(bob).GetRequiredService<ApprovalService>();
        var request = (await approvals.ListAsync(item.Item.Id)).Single(r => r.Operation == CriticalOperations.StopProtectionDeleteData);
        await approvals.ApproveAsync(request.Id);

        var deleted = (await host.Protection(ann).GetAsync(item.Item.Id))!;
        Assert.Equal(ProtectionState.SoftDeleted, deleted.Item.State);
        Assert.Equal(deleted.SoftDeletedAt!.Value.AddDays(14), deleted.PurgeAfter);
        await Assert.ThrowsAsync<PortalConflictException>(() => host.Protection(ann).BackUpNowAsync(item.Item.Id, DateTime.UtcNow.AddDays(30)));
        await Assert.ThrowsAsync<PortalConflictException>(() => host.Protection(ann).ResumeAsync(item.Item.Id, deleted.Version));

        await host.Protection(ann).UndeleteAsync(item.Item.Id, deleted.Version);
        var stopped = (await host.Protection(ann).GetAsync(item.Item.Id))!;
        Assert.Equal(ProtectionState.ProtectionStopped, stopped.Item.State);
        await host.Protection(ann).ResumeAsync(item.Item.Id, stopped.Version);
        Assert.Equal(ProtectionState.Protected, (await host.Protection(ann).GetAsync(item.Item.Id))!.Item.State);
    }
}
