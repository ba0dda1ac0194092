using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Portal.Features.Alerts;
using Portal.Features.Common;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Jobs.Pipeline;
using Portal.Features.Protection;
using Portal.Features.Verification;
using Portal.Tests.Infrastructure;
using Quartz;

namespace Portal.Tests.Integration;

/// <summary>
/// Scheduled verification of a vault (issue 22) on real folders and the real PostgreSQL: nightly runs read the next share
/// of the packs until every pack has been read once; damage fails the night that reads it, names the recovery points and
/// files, and raises the integrity alert; the schedule is the vault's, set by a contributor.
/// </summary>
public sealed class VerificationTests : ProtectionHostTest
{
    private VerificationService Verification(System.Security.Claims.ClaimsPrincipal user) => host.ActAs(user).GetRequiredService<VerificationService>();

    /// <summary>A vault with one item backed up <paramref name="backups"/> times, each adding a file: one pack or more per backup.</summary>
    private async Task<(Guid VaultId, string Folder)> BackedUpVaultAsync(int backups)
    {
        var (vault, policy) = await NewVaultAsync();
        var folder = Path.Combine(host.SourceRoot, "share");
        Directory.CreateDirectory(folder);
        var item = await host.Protection(ann).ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "share", folder, null, null, Passphrase, Passphrase));
        for (var i = 0; i < backups; i++)
        {
            var bytes = new byte[50_000];
            new Random(i).NextBytes(bytes);
            File.WriteAllBytes(Path.Combine(folder, $"file-{i}.bin"), bytes);
            var job = await host.Protection(ann).BackUpNowAsync(item.Item.Id, DateTime.UtcNow.AddDays(30));
            Assert.Equal(JobStatus.Completed, (await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished())).Status);
        }
        return (vault.Id, folder);
    }

    private async Task<Job> VerifyAsync(Guid vaultId)
    {
        var job = await Verification(ann).RunNowAsync(vaultId);
        return await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished());
    }

    [Fact]
    public async Task Nightly_windows_read_every_pack_once_per_period_and_the_vault_page_says_when_a_pass_completed()
    {
        var (vaultId, _) = await BackedUpVaultAsync(backups: 4);
        await Verification(ann).SaveAsync(vaultId, new VerificationSettings(true, PeriodDays: 3, NightlyReadBudgetGiB: 50));

        var nights = new List<Job>();
        RepositoryVerificationView state;
        do
        {
            nights.Add(await VerifyAsync(vaultId));
            state = Assert.Single((await Verification(ann).GetAsync(vaultId)).Repositories);
        }
        while (state.LastPassCompletedAt is null && nights.Count < 10);

        Assert.All(nights, n => Assert.Equal((JobKind.Check, JobStatus.Completed), (n.Kind, n.Status)));
        Assert.InRange(nights.Count, 2, 3); // a third of the data a night, whole packs
        Assert.Contains("every pack has now been read in this pass", nights[^1].Message);
        Assert.DoesNotContain("every pack has now been read", nights[0].Message);
        Assert.Equal(("the portal host's repository", 0), (state.Repository, state.LastProblems));
        Assert.Null(state.PassStartedAt); // the next night starts a new pass
        Assert.True(state.LastPassStartedAt <= state.LastPassCompletedAt);
        await using var db = database.Factory.CreateDbContext();
        var ids = nights.Select(n => n.Id).ToList();
        var read = await db.JobLog.Where(l => ids.Contains(l.JobId) && l.Text.Contains("read and verified"))
            .Select(l => l.Text).ToListAsync();
        Assert.Equal(nights.Count, read.Count);
    }

    [Fact]
    public async Task Damage_fails_the_night_that_reads_it_naming_the_points_and_files_and_raises_the_integrity_alert()
    {
        var (vaultId, _) = await BackedUpVaultAsync(backups: 2);
        foreach (var copy in Directory.GetDirectories(Path.Combine(root, "regions", "east"))
                     .SelectMany(replica => Directory.GetFiles(Path.Combine(replica, $"vaults/{vaultId:N}/data"), "*", SearchOption.AllDirectories)))
        {
            var bytes = File.ReadAllBytes(copy);
            bytes[bytes.Length / 2] ^= 0xFF; // every pack, in every replica: no good copy anywhere
            File.WriteAllBytes(copy, bytes);
        }

        var night = await VerifyAsync(vaultId); // the default schedule reads a thirtieth a night: at least one damaged pack

        Assert.Equal(JobStatus.Failed, night.Status);
        Assert.StartsWith("Verification of vault finance found ", night.Message);
        await using var db = database.Factory.CreateDbContext();
        var errors = await db.JobLog.Where(l => l.JobId == night.Id && l.Level == JobLogLevel.Error).Select(l => l.Text).ToListAsync();
        Assert.Contains(errors, e => e.StartsWith("the portal host's repository: data/", StringComparison.Ordinal)
                                     && e.Contains("Recovery points affected: share at ") && e.Contains("Files: "));
        var alert = await db.Alerts.SingleAsync(a => a.Kind == AlertKinds.IntegrityCheckFailed);
        Assert.Contains("finance", alert.Title);
        Assert.True(Assert.Single((await Verification(ann).GetAsync(vaultId)).Repositories).LastProblems > 0);
    }

    [Fact]
    public async Task The_nightly_schedule_queues_a_verification_for_each_vault_with_data_and_its_schedule_on()
    {
        var (withData, _) = await BackedUpVaultAsync(backups: 1);
        var (off, _) = await NewVaultAsync("archive");
        await Verification(ann).SaveAsync(off.Id, new VerificationSettings(false, 30, 50));
        await NewVaultAsync("empty");

        await host.Services.GetServices<IHostedService>().OfType<CronSchedule<VerificationSchedule>>().Single().EnsureAsync(default);
        var scheduler = await host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        var trigger = Assert.IsAssignableFrom<ICronTrigger>(await scheduler.GetTrigger(new TriggerKey(VerificationSchedule.Key.Name, VerificationSchedule.Key.Group)));
        Assert.Equal(new ProtectionOptions().VerificationCron, trigger.CronExpressionString);
        await host.Services.CreateScope().ServiceProvider.GetRequiredService<VerificationService>().RunScheduledAsync(default);

        await using var db = database.Factory.CreateDbContext();
        var queued = await db.Jobs.Where(j => j.Kind == JobKind.Check).ToListAsync();
        var job = Assert.Single(queued); // not the vault with its schedule off, nor the one without data
        Assert.Equal((withData, "schedule", "verification"), (job.VaultId!.Value, job.StartedBy, job.Subject));
        Assert.Equal(JobStatus.Completed, (await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished())).Status);
    }

    [Fact]
    public async Task Only_contributors_change_the_schedule_with_its_limits_said_and_operators_verify_now()
    {
        var (vaultId, _) = await BackedUpVaultAsync(backups: 1);
        var invalid = await Assert.ThrowsAsync<PortalValidationException>(() => Verification(ann).SaveAsync(vaultId, new VerificationSettings(true, 0, 0)));
        Assert.Equal("Read every pack once in 1 to 365 days.", invalid.Errors["PeriodDays"]);
        Assert.Equal("The nightly read budget is 1 to 1,000,000 GiB.", invalid.Errors["NightlyReadBudgetGiB"]);
        foreach (var role in new[] { PortalRoles.Operator, PortalRoles.Reader, PortalRoles.RestoreOperator })
            await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Verification(TestUsers.WithRoles("Someone", role)).SaveAsync(vaultId, new VerificationSettings(false, 30, 50)));
        foreach (var role in new[] { PortalRoles.Reader, PortalRoles.RestoreOperator })
            await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Verification(TestUsers.WithRoles("Someone", role)).RunNowAsync(vaultId));

        var job = await Verification(TestUsers.WithRoles("Olga", PortalRoles.Operator)).RunNowAsync(vaultId);
        Assert.Equal(JobStatus.Completed, (await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished())).Status);
        await using var db = database.Factory.CreateDbContext();
        Assert.Contains(await db.AuditEntries.Select(a => a.Action).ToListAsync(), a => a == "Vault.Verify");
    }
}
