using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Portal.Features.Alerts;
using Portal.Features.Common;
using Portal.Features.Drills;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Protection;
using Portal.Tests.Infrastructure;

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
}
