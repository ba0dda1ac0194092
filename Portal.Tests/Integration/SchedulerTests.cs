using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Policies;
using Portal.Features.Protection;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Integration;

/// <summary>The clustered Quartz scheduler on real PostgreSQL: restarts, missed schedules and several instances.</summary>
public sealed class SchedulerTests : IAsyncLifetime
{
    private const string Passphrase = "correct horse battery staple";
    private readonly TestDatabase database = new();
    private readonly string root = Directory.CreateTempSubdirectory("portal-scheduler-").FullName;
    private readonly System.Security.Claims.ClaimsPrincipal ann = TestUsers.WithRoles("Ann", PortalRoles.Contributor);

    public Task InitializeAsync() => database.InitializeAsync();

    public async Task DisposeAsync()
    {
        await database.DisposeAsync();
        Directory.Delete(root, recursive: true);
    }

    [Fact]
    public async Task A_policy_becomes_one_trigger_per_time_in_its_time_zone_and_stopping_protection_removes_them()
    {
        await using var host = await ProtectionHost.StartAsync(database, root);
        var item = await ProtectAsync(host);
        var triggers = await TriggersAsync(item);
        Assert.Equal(["0 30 22 ? * *"], triggers.Select(t => t.Cron));

        await host.Protection(ann).StopProtectionAsync(item, (await host.Protection(ann).GetAsync(item))!.Version);
        Assert.Empty(await TriggersAsync(item));
        Assert.Null((await host.Protection(ann).GetAsync(item))!.Item.NextScheduledAt);
    }

    [Fact]
    public async Task A_schedule_missed_while_every_portal_was_down_runs_once_when_two_instances_start_together()
    {
        Guid item;
        await using (var first = await ProtectionHost.StartAsync(database, root))
            item = await ProtectAsync(first);

        // Every portal was down for three days: three 22:30 slots passed.
        await MoveNextFireAsync(item, TimeSpan.FromDays(-3));

        await using var a = await ProtectionHost.StartAsync(database, root, start: false);
        await using var b = await ProtectionHost.StartAsync(database, root, start: false);
        var started = WaitForBackupOfItemAsync([a, b], item);
        await Task.WhenAll(a.StartAsync(), b.StartAsync());
        var job = await started;
        var done = await (job.Host).WaitForJobAsync(job.Id, j => j.Status.IsFinished());

        Assert.Equal(JobStatus.Completed, done.Status);
        Assert.StartsWith("schedule", done.StartedBy);
        var next = (await TriggersAsync(item)).Single().NextFire;
        Assert.True(next > DateTimeOffset.UtcNow, $"the trigger's next fire {next} should be in the future once the missed run is done");
        await using var db = database.Factory.CreateDbContext();
        Assert.Equal(1, await db.Jobs.CountAsync(j => j.ItemId == item && j.Kind == JobKind.Backup));
        var point = await db.RecoveryPoints.SingleAsync(p => p.ItemId == item);
        Assert.Equal(RecoveryPointType.Scheduled, point.Type);
    }

    private async Task<Guid> ProtectAsync(ProtectionHost host)
    {
        var vault = await host.ActAs(ann).GetRequiredService<VaultService>().CreateAsync(new CreateVaultRequest("finance", "east", StorageRedundancy.LRS));
        var policy = (await host.ActAs(ann).GetRequiredService<PolicyService>().ListAsync(vault.Id)).Single();
        var folder = Path.Combine(host.SourceRoot, "share");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "a.txt"), "quarterly figures");
        var item = await host.Protection(ann).ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "share", folder, null, null, Passphrase, Passphrase));
        return item.Item.Id;
    }

    /// <summary>Resolves when a backup job of <paramref name="item"/> starts on any of <paramref name="hosts"/>.</summary>
    private static Task<(Guid Id, ProtectionHost Host)> WaitForBackupOfItemAsync(ProtectionHost[] hosts, Guid item)
    {
        var seen = new TaskCompletionSource<(Guid, ProtectionHost)>(TaskCreationOptions.RunContinuationsAsynchronously);
        foreach (var host in hosts)
        {
            // Not disposed: the hosts, and their notifiers, end with the test.
            host.Services.GetRequiredService<JobNotifier>().Subscribe(JobTopic.OfItem(item), job =>
            {
                if (job.Kind == JobKind.Backup)
                    seen.TrySetResult((job.Id, host));
                return Task.CompletedTask;
            });
        }

        return seen.Task.WaitAsync(TimeSpan.FromSeconds(90));
    }

    private sealed record TriggerRow(string Name, string Cron, DateTimeOffset NextFire);

    private async Task<List<TriggerRow>> TriggersAsync(Guid item)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT t.trigger_name, c.cron_expression, t.next_fire_time FROM qrtz_triggers t JOIN qrtz_cron_triggers c " +
            "ON c.sched_name = t.sched_name AND c.trigger_name = t.trigger_name AND c.trigger_group = t.trigger_group " +
            "WHERE t.job_name = @job AND t.trigger_group = @group", connection);
        command.Parameters.AddWithValue("job", item.ToString("N"));
        command.Parameters.AddWithValue("group", ProtectionScheduler.ScheduleGroup);
        var rows = new List<TriggerRow>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            rows.Add(new TriggerRow(reader.GetString(0), reader.GetString(1), FromStored(reader.GetInt64(2))));
        return rows;
    }

    private async Task MoveNextFireAsync(Guid item, TimeSpan by)
    {
        var current = (await TriggersAsync(item)).Single();
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("UPDATE qrtz_triggers SET next_fire_time = @next WHERE job_name = @job AND trigger_group = @group", connection);
        command.Parameters.AddWithValue("next", ToStored(current.NextFire + by));
        command.Parameters.AddWithValue("job", item.ToString("N"));
        command.Parameters.AddWithValue("group", ProtectionScheduler.ScheduleGroup);
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    // Quartz.NET stores instants as UTC ticks.
    private static DateTimeOffset FromStored(long value) => new(value, TimeSpan.Zero);

    private static long ToStored(DateTimeOffset value) => value.UtcTicks;
}
