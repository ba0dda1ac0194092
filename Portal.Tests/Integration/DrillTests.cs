using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Portal.Features.Alerts;
using Portal.Features.Audit;
using Portal.Features.Common;
using Portal.Features.Drills;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Policies;
using Portal.Features.Protection;
using Portal.Features.Reports;
using Portal.Tests.Infrastructure;
using Quartz;

namespace Portal.Tests.Integration;

/// <summary>
/// Restore drills on real folders and the real PostgreSQL: a good point is restored whole into scratch, verified, timed
/// and deleted; a tampered pack makes the drill fail with its cause and an alert; the scratch copy never stays.
/// </summary>
public sealed class DrillTests : ProtectionHostTest
{
    private DrillService Drills(System.Security.Claims.ClaimsPrincipal user) => host.ActAs(user).GetRequiredService<DrillService>();

    private string DrillRoot => host.Services.GetRequiredService<IOptions<DrillOptions>>().Value.DrillRoot;

    private async Task<ItemDetails> BackedUpItemAsync()
    {
        var (vault, policy) = await NewVaultAsync();
        var folder = Path.Combine(host.SourceRoot, "share");
        Directory.CreateDirectory(Path.Combine(folder, "docs"));
        for (var i = 0; i < 20; i++)
            File.WriteAllText(Path.Combine(folder, "docs", $"file-{i}.txt"), $"contents of file {i} " + new string('x', i * 1000));
        var item = await host.Protection(ann).ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "share", folder, null, null, Passphrase, Passphrase));
        var job = await host.Protection(ann).BackUpNowAsync(item.Item.Id, DateTime.UtcNow.AddDays(30));
        Assert.Equal(JobStatus.Completed, (await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished())).Status);
        return (await host.Protection(ann).GetAsync(item.Item.Id))!;
    }

    [Fact]
    public async Task A_drill_restores_the_latest_point_whole_verifies_every_file_records_its_time_and_deletes_the_scratch_copy()
    {
        var item = await BackedUpItemAsync();
        var point = Assert.Single(item.RecoveryPoints);

        var job = await Drills(ann).RunNowAsync(item.Item.Id);
        var done = await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished());

        Assert.Equal((JobKind.Drill, JobStatus.Completed), (done.Kind, done.Status));
        Assert.StartsWith($"Restored recovery point {point.SnapshotId[..8]} of ", done.Message);
        Assert.Contains("20 file(s)", done.Message);
        var drill = Assert.Single(await Drills(ann).ListAsync(item.Item.Id));
        Assert.Equal((DrillResult.Passed, point.SnapshotId, 20L, "Ann"), (drill.Result, drill.SnapshotId, drill.FilesVerified, drill.RequestedBy));
        Assert.Equal(Enumerable.Range(0, 20).Sum(i => $"contents of file {i} ".Length + i * 1000), drill.BytesVerified);
        Assert.True(drill.RestoreSeconds > 0 && drill.EstimatedFullRestoreSeconds >= drill.RestoreSeconds);
        Assert.False(Directory.Exists(Path.Combine(DrillRoot, $"drill-{job.Id:N}")));
    }

    [Fact]
    public async Task A_drill_of_a_tampered_pack_fails_with_the_cause_raises_an_alert_and_leaves_no_scratch_copy()
    {
        var item = await BackedUpItemAsync();
        var vaultFolder = $"vaults/{item.Item.VaultId:N}/data";
        foreach (var copy in Directory.GetDirectories(Path.Combine(root, "regions", "east"))
                     .SelectMany(replica => Directory.Exists(Path.Combine(replica, vaultFolder)) ? Directory.GetFiles(Path.Combine(replica, vaultFolder), "*", SearchOption.AllDirectories) : []))
        {
            var bytes = File.ReadAllBytes(copy);
            bytes[bytes.Length / 2] ^= 0xFF; // every pack, in every replica: no good copy anywhere
            File.WriteAllBytes(copy, bytes);
        }

        var job = await Drills(ann).RunNowAsync(item.Item.Id);
        var done = await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished());

        Assert.Equal(JobStatus.Failed, done.Status);
        Assert.Contains("did not restore", done.Message);
        var drill = Assert.Single(await Drills(ann).ListAsync(item.Item.Id));
        Assert.Equal(DrillResult.Failed, drill.Result);
        Assert.Contains(Assert.Single(item.RecoveryPoints).SnapshotId[..8], drill.Detail);
        Assert.False(Directory.Exists(Path.Combine(DrillRoot, $"drill-{job.Id:N}")));
        await using var db = database.Factory.CreateDbContext();
        var alert = await db.Alerts.SingleAsync(a => a.Kind == AlertKinds.DrillFailed);
        Assert.Equal(("Restore drill of 'share' failed", AlertSeverity.Critical), (alert.Title, alert.Severity));
    }

    [Fact]
    public async Task Only_contributors_and_operators_run_drills_and_an_item_without_a_point_is_refused_with_what_to_do()
    {
        var (vault, policy) = await NewVaultAsync();
        var folder = Path.Combine(host.SourceRoot, "empty");
        Directory.CreateDirectory(folder);
        var item = await host.Protection(ann).ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "empty", folder, null, null, Passphrase, Passphrase));

        var none = await Assert.ThrowsAsync<PortalConflictException>(() => Drills(ann).RunNowAsync(item.Item.Id));
        Assert.Equal("empty has no recovery point to drill yet: back it up first.", none.Message);
        foreach (var role in new[] { PortalRoles.Reader, PortalRoles.RestoreOperator })
            await Assert.ThrowsAsync<PortalAccessDeniedException>(() => Drills(TestUsers.WithRoles("Someone", role)).RunNowAsync(item.Item.Id));
    }

    private static readonly System.Security.Claims.ClaimsPrincipal olga = TestUsers.WithRoles("Olga", PortalRoles.Operator);

    private async Task<IReadOnlyList<string>> DrilledFilesAsync(Guid jobId)
    {
        await using var db = database.Factory.CreateDbContext();
        return await db.JobLog.Where(e => e.JobId == jobId && e.Text.StartsWith("drilled ")).Select(e => e.Text.Substring(8)).ToListAsync();
    }

    private async Task<Job> DrillAsync(Guid itemId, System.Security.Claims.ClaimsPrincipal? user = null)
    {
        var job = await Drills(user ?? ann).RunNowAsync(itemId);
        return await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished());
    }

    [Fact]
    public async Task A_sample_of_files_covers_different_files_on_each_run_and_every_file_over_time_and_extrapolates_the_full_restore()
    {
        var item = await BackedUpItemAsync();
        await Drills(olga).SetItemSettingsAsync(item.Item.Id, DrillSettings.Default with { Sample = DrillSampleKind.Files, SampleSize = 7 });

        var runs = new List<IReadOnlyList<string>>();
        for (var i = 0; i < 3; i++)
        {
            var done = await DrillAsync(item.Item.Id, olga);
            Assert.Equal(JobStatus.Completed, done.Status);
            Assert.Contains("in part (7 files at random (7 of 20 files))", done.Message);
            runs.Add(await DrilledFilesAsync(done.Id));
        }

        Assert.All(runs.Take(2), r => Assert.Equal(7, r.Count));
        Assert.Empty(runs[0].Intersect(runs[1]));
        Assert.Empty(runs[1].Intersect(runs[2].Take(6)));
        Assert.Equal(20, runs.SelectMany(r => r).Distinct().Count()); // 7 + 7 + 7 > 20: three drills cover every file
        var drills = await Drills(ann).ListAsync(item.Item.Id);
        Assert.All(drills, d => Assert.Equal((7L, DrillResult.Passed), (d.FilesVerified, d.Result)));
        // RTO measured: a sample's time scaled by what a whole restore reads from storage against what the sample read
        // (no longer by the files' bytes: few small files then estimated a full restore 20 times too long), said in the evidence.
        await using var db = database.Factory.CreateDbContext();
        var messages = await db.RecoveryDrills.Where(d => d.ItemId == item.Item.Id).Select(d => d.Detail).ToListAsync();
        Assert.Equal(3, messages.Count);
        Assert.All(messages, m => Assert.Matches(@"scaled by reads from storage: the sample read \d+ objects \(.+ stored\), a full restore reads \d+ \(", m));
        // The setup (lock, snapshot, index) is not scaled: the estimate is at least the sample's own time, at most what
        // scaling all of it by twice the file share would give.
        Assert.All(drills, d => Assert.InRange(d.EstimatedFullRestoreSeconds, d.RestoreSeconds, d.RestoreSeconds * 20 / 7.0 * 2));
    }

    [Fact]
    public async Task An_items_own_schedule_overrides_its_policys_and_puts_one_quartz_trigger_per_drilled_item_and_the_trigger_queues_a_drill()
    {
        var item = await BackedUpItemAsync();
        var scheduler = await host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        var triggerKey = new TriggerKey(item.Item.Id.ToString("N"), DrillScheduler.Group);
        Assert.Null(await scheduler.GetTrigger(triggerKey)); // off for a new item until set

        await Drills(ann).SetPolicySettingsAsync(item.PolicyId!.Value, DrillSettings.Default);
        var trigger = Assert.IsAssignableFrom<ICronTrigger>(await scheduler.GetTrigger(triggerKey));
        Assert.Equal("0 0 3 ? * SUN", trigger.CronExpressionString); // weekly by default
        var settings = await Drills(ann).GetItemSettingsAsync(item.Item.Id);
        Assert.Equal(("policy DefaultPolicy", "Ann", DayOfWeek.Sunday), (settings.Effective!.Source, settings.Effective.ConfiguredBy, settings.NextRunAt!.Value.DayOfWeek));

        await Drills(olga).SetItemSettingsAsync(item.Item.Id, DrillSettings.Default with { Frequency = DrillFrequency.Monthly, DayOfMonth = 5, TimeUtc = new TimeOnly(1, 30) });
        trigger = Assert.IsAssignableFrom<ICronTrigger>(await scheduler.GetTrigger(triggerKey));
        Assert.Equal("0 30 1 5 * ?", trigger.CronExpressionString);
        Assert.Equal(("item", "Olga"), ((await Drills(ann).GetItemSettingsAsync(item.Item.Id)).Effective!.Source, (await Drills(ann).GetItemSettingsAsync(item.Item.Id)).Effective!.ConfiguredBy));

        // The trigger's job queues a drill as the schedule, and the evidence names who configured it.
        var job = await host.Services.GetRequiredService<DrillRuns>().EnqueueScheduledAsync(item.Item.Id, CancellationToken.None);
        var done = await host.WaitForJobAsync(job!.Id, j => j.Status.IsFinished());
        Assert.Equal((JobStatus.Completed, "drill schedule (item)"), (done.Status, done.StartedBy));
        var evidence = Assert.Single(await host.ActAs(TestUsers.WithRoles("Rita", PortalRoles.Reader)).GetRequiredService<DrillEvidence>().ListAsync(item.Item.Id));
        Assert.StartsWith("Olga (item, ", evidence.ConfiguredBy);
        Assert.Contains("20 of 20 file(s)", evidence.Verified);

        await Drills(olga).SetItemSettingsAsync(item.Item.Id, DrillSettings.Default with { Frequency = DrillFrequency.Off });
        Assert.Null(await scheduler.GetTrigger(triggerKey)); // the item's "off" overrides the policy's weekly
        Assert.Null(await host.Services.GetRequiredService<DrillRuns>().EnqueueScheduledAsync(item.Item.Id, CancellationToken.None));
        await using var db = database.Factory.CreateDbContext();
        Assert.Equal(3, await db.AuditEntries.CountAsync(a => a.Action == AuditActions.ItemDrillSchedule || a.Action == AuditActions.PolicyDrillSchedule));
    }

    [Fact]
    public async Task A_missed_rto_target_raises_an_alert_with_its_cause_compliance_says_so_and_a_drill_within_target_resolves_it()
    {
        var item = await BackedUpItemAsync();
        // A 1-minute target is met by this small restore: a target of 0 (below what the service accepts, so written to the row) is missed by any.
        await Drills(ann).SetItemSettingsAsync(item.Item.Id, DrillSettings.Default with { RtoTarget = TimeSpan.FromMinutes(1) });
        await using (var db = database.Factory.CreateDbContext())
            await db.DrillSchedules.Where(s => s.ItemId == item.Item.Id).ExecuteUpdateAsync(u => u.SetProperty(s => s.RtoTargetMinutes, 0)); // 0 min: missed by any restore

        Assert.Equal(JobStatus.Completed, (await DrillAsync(item.Item.Id)).Status);
        await using (var db = database.Factory.CreateDbContext())
        {
            var alert = await db.Alerts.SingleAsync(a => a.Kind == AlertKinds.RtoMissed && a.State == AlertState.Active);
            Assert.Equal("RTO target missed for 'share'", alert.Title);
            Assert.Contains("the RTO target is 0 s", alert.Cause);
        }

        var compliance = await ActivatorUtilities.CreateInstance<ComplianceReport>(host.ActAs(ann)).SummarizeAsync();
        var row = Assert.Single(compliance.Items);
        Assert.Equal(("Proven recoverable", true, (bool?)false), (row.DrillStatus, row.ProvenRecoverable, row.RtoMet));
        Assert.Equal((1, 1, 0, 1), (Assert.Single(compliance.Vaults).Items, compliance.Vaults[0].ProvenRecoverable, compliance.Vaults[0].RtoMet, compliance.Vaults[0].WithRtoTarget));

        await Drills(ann).SetItemSettingsAsync(item.Item.Id, DrillSettings.Default with { RtoTarget = TimeSpan.FromHours(1) });
        Assert.Equal(JobStatus.Completed, (await DrillAsync(item.Item.Id)).Status);
        await using (var db = database.Factory.CreateDbContext())
            Assert.Equal(AlertState.Resolved, (await db.Alerts.SingleAsync(a => a.Kind == AlertKinds.RtoMissed)).State);
        row = Assert.Single((await ActivatorUtilities.CreateInstance<ComplianceReport>(host.ActAs(ann)).SummarizeAsync()).Items);
        Assert.Equal((bool?)true, row.RtoMet);
    }

    [Fact]
    public async Task Bad_drill_settings_are_refused_field_by_field_in_plain_words_and_nothing_is_saved()
    {
        var item = await BackedUpItemAsync();
        var refused = await Assert.ThrowsAsync<PortalValidationException>(() => Drills(ann).SetItemSettingsAsync(item.Item.Id,
            DrillSettings.Default with { Frequency = DrillFrequency.Monthly, DayOfMonth = 31, Sample = DrillSampleKind.Files, SampleSize = 0, RtoTarget = TimeSpan.FromDays(90) }));
        Assert.Equal(["DayOfMonth", "RtoTarget", "SampleSize"], refused.Errors.Keys.Order());
        Assert.Equal("A monthly drill runs on a day from 1 to 28 (every month has those).", refused.Errors["DayOfMonth"]);
        Assert.Null((await Drills(ann).GetItemSettingsAsync(item.Item.Id)).Own);
    }

    public static TheoryData<string, string, bool> DrillMatrix()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (var role in PortalRoles.All)
            foreach (var operation in new[] { "Drill.RunNow", "Drill.ItemSchedule", "Drill.PolicySchedule", "Drill.Evidence" })
                data.Add(role, operation, operation == "Drill.Evidence" || role is PortalRoles.Contributor or PortalRoles.Operator);
        return data;
    }

    /// <summary>The role matrix (<see cref="RoleMatrixTests"/>) for the drill service's operations, called on the services directly.</summary>
    [Theory]
    [MemberData(nameof(DrillMatrix))]
    public async Task Each_role_may_do_exactly_what_the_drill_table_says(string role, string operation, bool allowed)
    {
        var item = await BackedUpItemAsync();
        var caller = host.ActAs(TestUsers.WithRoles("Caller", role));
        Func<Task> call = operation switch
        {
            "Drill.RunNow" => () => caller.GetRequiredService<DrillService>().RunNowAsync(item.Item.Id),
            "Drill.ItemSchedule" => () => caller.GetRequiredService<DrillService>().SetItemSettingsAsync(item.Item.Id, DrillSettings.Default),
            "Drill.PolicySchedule" => () => caller.GetRequiredService<DrillService>().SetPolicySettingsAsync(item.PolicyId!.Value, DrillSettings.Default),
            "Drill.Evidence" => () => caller.GetRequiredService<DrillEvidence>().ListAsync(item.Item.Id),
            _ => throw new ArgumentOutOfRangeException(nameof(operation)),
        };
        await using var db = database.Factory.CreateDbContext();
        if (allowed)
        {
            await call();
        }
        else
        {
            var refusal = await Assert.ThrowsAsync<PortalAccessDeniedException>(call);
            Assert.Contains("role", refusal.Message);
            Assert.False(await db.DrillSchedules.AnyAsync());
            Assert.False(await db.Jobs.AnyAsync(j => j.Kind == JobKind.Drill));
        }
    }
}
