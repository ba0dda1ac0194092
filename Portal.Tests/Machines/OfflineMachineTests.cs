using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Portal.Features.Alerts;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Machines;
using Portal.Features.Protection;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Machines;

/// <summary>
/// A scheduled backup of a machine that is off waits for it, up to the offline window (Machines:OfflineWindow, 2 hours by
/// default), then fails saying since when the machine is offline, and raises the backup-failed alert. A revoked machine's
/// waiting job fails at once. Driven on a fake clock: the window is measured, not slept through.
/// </summary>
public sealed class OfflineMachineTests : IAsyncLifetime
{
    private readonly TestDatabase database = new();
    private readonly string root = Directory.CreateTempSubdirectory("portal-offline-").FullName;
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2026, 12, 7, 1, 0, 0, TimeSpan.Zero));
    private readonly System.Security.Claims.ClaimsPrincipal ann = TestUsers.WithRoles("Ann", PortalRoles.Contributor);

    public Task InitializeAsync() => database.InitializeAsync();

    public async Task DisposeAsync()
    {
        await database.DisposeAsync();
        Directory.Delete(root, recursive: true);
    }

    [Fact]
    public async Task A_backup_of_an_offline_machine_waits_out_the_window_then_fails_with_since_when_and_an_alert()
    {
        await using var host = await ProtectionHost.StartAsync(database, root, clock, start: false);
        var vault = await host.ActAs(ann).GetRequiredService<VaultService>().CreateAsync(new CreateVaultRequest("estate", "east", StorageRedundancy.LRS));
        var lastSeen = clock.GetUtcNow().UtcDateTime.AddMinutes(-30);
        var machine = await database.AddMachineAsync(vault.Id, "web-01", lastSeen.AddDays(-1), m => (m.LastContactAt, m.DisconnectedAt) = (lastSeen, lastSeen));
        var item = await database.AddItemAsync(vault.Id, machine.Id, "web-01 share");
        var job = await host.Services.GetRequiredService<Backups>().EnqueueScheduledAsync(item.Id, default);
        Assert.NotNull(job);
        Assert.Equal(machine.Id, job.MachineId);
        var control = host.Services.GetRequiredService<AgentControlService>();

        clock.Advance(TimeSpan.FromHours(2) - TimeSpan.FromMinutes(1));
        Assert.Equal(0, await control.GiveUpOfflineAsync(default)); // still within the window: it waits
        Assert.Equal(JobStatus.Queued, (await host.Jobs.GetAsync(job.Id, default))!.Status);

        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, await control.GiveUpOfflineAsync(default));
        var failed = (await host.Jobs.GetAsync(job.Id, default))!;
        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.Equal($"Machine web-01 is offline since {lastSeen:yyyy-MM-dd HH:mm} UTC: the job waited 2 hours for it and was given up. " +
                     "Check that the machine is on and its agent runs (systemctl status portal-agent).", failed.Message);
        await using var db = database.Factory.CreateDbContext();
        Assert.Equal(JobStatus.Failed, (await db.BackupItems.SingleAsync(i => i.Id == item.Id)).LastBackupStatus);
        var alert = await db.Alerts.SingleAsync();
        Assert.Equal(AlertKinds.BackupFailed, alert.Kind);
        Assert.Contains("offline since", alert.Cause);
    }

    [Fact]
    public async Task A_revoked_machines_waiting_backup_fails_at_once_and_an_online_machines_waits()
    {
        await using var host = await ProtectionHost.StartAsync(database, root, clock, start: false);
        var vault = await host.ActAs(ann).GetRequiredService<VaultService>().CreateAsync(new CreateVaultRequest("estate", "east", StorageRedundancy.LRS));
        var now = clock.GetUtcNow().UtcDateTime;
        var revoked = await database.AddMachineAsync(vault.Id, "old-01", now.AddDays(-3), m => (m.RevokedAt, m.RevokedBy) = (now.AddMinutes(-5), "Ann"));
        var online = await database.AddMachineAsync(vault.Id, "web-02", now.AddDays(-3), m => (m.ConnectedTo, m.LastContactAt) = ("portal-a", now));
        var revokedJob = await host.Services.GetRequiredService<Backups>().EnqueueScheduledAsync((await database.AddItemAsync(vault.Id, revoked.Id, "old")).Id, default);
        var onlineJob = await host.Services.GetRequiredService<Backups>().EnqueueScheduledAsync((await database.AddItemAsync(vault.Id, online.Id, "busy")).Id, default);

        Assert.Equal(1, await host.Services.GetRequiredService<AgentControlService>().GiveUpOfflineAsync(default));
        var failed = (await host.Jobs.GetAsync(revokedJob!.Id, default))!;
        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.StartsWith("Machine old-01 was revoked by Ann on ", failed.Message);
        Assert.Equal(JobStatus.Queued, (await host.Jobs.GetAsync(onlineJob!.Id, default))!.Status); // online, maybe busy: never given up for that
    }
}
