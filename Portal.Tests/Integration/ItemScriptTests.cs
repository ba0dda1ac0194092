using Microsoft.Extensions.DependencyInjection;
using Portal.Features.Common;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Policies;
using Portal.Features.Protection;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Integration;

/// <summary>Pre- and post-backup scripts of files-and-folders items, run for real by /bin/sh: success, failure, timeout.</summary>
public sealed class ItemScriptTests : ProtectionHostTest
{
    private readonly System.Security.Claims.ClaimsPrincipal otto = TestUsers.WithRoles("Otto", PortalRoles.Operator);
    private string source = "";
    private string PostMarker => Path.Combine(root, "post-ran");

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        source = Path.Combine(host.SourceRoot, "app");
        Directory.CreateDirectory(source);
        File.WriteAllText(Path.Combine(source, "data.txt"), "application data");
    }

    private async Task<(Job Job, RecoveryPointSummary? Point, IReadOnlyList<JobLogEntry> Log)> BackUpWithScriptsAsync(string pre, int? timeout = null)
    {
        var (vault, policy) = await NewVaultAsync("apps");
        var item = await host.Protection(ann).ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "app", source, null, null, Passphrase, Passphrase,
            Scripts: new ScriptSettings(pre, $"echo thawed; echo post > '{PostMarker}'", timeout)));
        Assert.Equal(pre, item.Workload!.PreScript);
        var queued = await host.Protection(otto).BackUpNowAsync(item.Item.Id, DateTime.UtcNow.AddDays(30));
        var job = await host.WaitForJobAsync(queued.Id, j => j.Status.IsFinished());
        var point = (await host.Protection(ann).GetAsync(item.Item.Id))!.RecoveryPoints.SingleOrDefault();
        var log = await host.ActAs(ann).GetRequiredService<JobQueries>().LogAsync(job.Id);
        return (job, point, log);
    }

    [Fact]
    public async Task A_pre_script_that_succeeds_makes_the_recovery_point_application_consistent_and_its_output_goes_into_the_job_log()
    {
        var (job, point, log) = await BackUpWithScriptsAsync("echo flushing the app; test -f data.txt");

        Assert.Equal(JobStatus.Completed, job.Status);
        Assert.Equal(RecoveryPointConsistency.ApplicationConsistent, point!.Consistency);
        Assert.Contains("application-consistent", job.Message);
        Assert.Contains(log, l => l.Text == "pre-backup: flushing the app");
        Assert.Contains(log, l => l.Text == "post-backup: thawed");
        Assert.True(File.Exists(PostMarker));
    }

    [Fact]
    public async Task A_pre_script_that_fails_leaves_a_file_system_consistent_point_and_a_warning_naming_its_exit_code()
    {
        var (job, point, log) = await BackUpWithScriptsAsync("echo cannot quiesce >&2; exit 3");

        Assert.Equal(JobStatus.CompletedWithWarnings, job.Status);
        Assert.Contains("The pre-backup script failed with exit code 3", job.Message);
        Assert.Contains("file-system consistent", job.Message);
        Assert.Equal(RecoveryPointConsistency.FileSystemConsistent, point!.Consistency);
        Assert.Equal(1, point.Files); // the backup went on
        Assert.Contains(log, l => l.Text == "pre-backup: cannot quiesce");
        Assert.True(File.Exists(PostMarker), "the post-backup script always runs");
    }

    [Fact]
    public async Task A_pre_script_that_runs_past_its_timeout_is_stopped_and_the_backup_goes_on()
    {
        var (job, point, _) = await BackUpWithScriptsAsync("sleep 60", timeout: 1);

        Assert.Equal(JobStatus.CompletedWithWarnings, job.Status);
        Assert.Contains("did not finish within 1 s", job.Message);
        Assert.Equal(RecoveryPointConsistency.FileSystemConsistent, point!.Consistency);
        Assert.True(job.EndedAt - job.StartedAt < TimeSpan.FromSeconds(30), "the script was stopped, not waited for");
        Assert.True(File.Exists(PostMarker));
    }

    [Fact]
    public async Task The_post_script_runs_even_when_the_backup_fails()
    {
        var (job, point, _) = await BackUpWithScriptsAsync($"rm -rf '{source}'"); // the pre-script takes the folder away

        Assert.Equal(JobStatus.Failed, job.Status);
        Assert.Null(point);
        Assert.True(File.Exists(PostMarker));
    }

    [Fact]
    public async Task Scripts_can_be_changed_and_removed_later_by_a_contributor_only()
    {
        var (vault, policy) = await NewVaultAsync("apps");
        var item = await host.Protection(otto).ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "app", source, null, null, Passphrase, Passphrase));
        var workloads = host.ActAs(ann).GetRequiredService<Portal.Features.Workloads.WorkloadService>();

        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => host.ActAs(otto).GetRequiredService<Portal.Features.Workloads.WorkloadService>()
            .UpdateScriptsAsync(item.Item.Id, item.Version, new ScriptSettings("true", null)));
        var bad = await Assert.ThrowsAsync<PortalValidationException>(() => workloads.UpdateScriptsAsync(item.Item.Id, item.Version, new ScriptSettings("true", null, 0)));
        Assert.Contains("timeout", bad.Errors["ScriptTimeoutSeconds"]);
        await workloads.UpdateScriptsAsync(item.Item.Id, item.Version, new ScriptSettings("echo ready", "echo done", 30));
        var changed = (await host.Protection(ann).GetAsync(item.Item.Id))!;
        Assert.Equal(("echo ready", "echo done", 30), (changed.Workload!.PreScript, changed.Workload.PostScript, changed.Workload.ScriptTimeoutSeconds));
        await Assert.ThrowsAsync<PortalConflictException>(() => workloads.UpdateScriptsAsync(item.Item.Id, item.Version, new ScriptSettings(null, null))); // stale version
        await workloads.UpdateScriptsAsync(item.Item.Id, changed.Version, new ScriptSettings(" ", null));
        Assert.Null((await host.Protection(ann).GetAsync(item.Item.Id))!.Workload!.PreScript);
    }

    [Fact]
    public async Task Only_a_backup_contributor_may_set_scripts()
    {
        var (vault, policy) = await NewVaultAsync("apps");
        var denied = await Assert.ThrowsAsync<PortalAccessDeniedException>(() => host.Protection(otto).ConfigureAsync(new ConfigureProtectionRequest(
            vault.Id, policy.Id, "app", source, null, null, Passphrase, Passphrase, Scripts: new ScriptSettings("touch /tmp/x", null))));
        Assert.Contains("Backup.Contributor", denied.Message);
    }
}
