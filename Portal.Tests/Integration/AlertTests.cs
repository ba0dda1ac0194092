using System.Security.Claims;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Portal.Data;
using Portal.Engine.Replication;
using Portal.Features.Alerts;
using Portal.Features.Approvals;
using Portal.Features.Common;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Policies;
using Portal.Features.Protection;
using Portal.Features.Replication;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Integration;

/// <summary>
/// Alerts on real PostgreSQL: real backups that fail and recover, a real SMTP server and a real webhook endpoint on
/// loopback, and a fake clock for the RPO.
/// </summary>
public sealed class AlertTests : IAsyncLifetime
{
    private const string Passphrase = "correct horse battery staple";
    private readonly TestDatabase database = new();
    private readonly string root = Directory.CreateTempSubdirectory("portal-alerts-").FullName;
    private readonly ClaimsPrincipal ann = TestUsers.WithRoles("Ann", PortalRoles.Contributor);
    private readonly ClaimsPrincipal bob = TestUsers.WithRoles("Bob", PortalRoles.Contributor);
    private readonly ClaimsPrincipal olga = TestUsers.WithRoles("Olga", PortalRoles.Operator);
    private readonly ClaimsPrincipal rita = TestUsers.WithRoles("Rita", PortalRoles.Reader);
    private ProtectionHost? host;

    public Task InitializeAsync() => database.InitializeAsync();

    public async Task DisposeAsync()
    {
        if (host is not null)
            await host.DisposeAsync();
        await database.DisposeAsync();
        Directory.Delete(root, recursive: true);
    }

    private async Task<ProtectionHost> StartHostAsync(Dictionary<string, string?>? settings = null) =>
        host = await ProtectionHost.StartAsync(database, root, settings: settings);

    /// <summary>A protected item "finance" whose source folder exists; returns the item id and its folder.</summary>
    private async Task<(Guid Item, string Folder)> ProtectFinanceAsync()
    {
        var vault = await host!.ActAs(ann).GetRequiredService<VaultService>().CreateAsync(new CreateVaultRequest("finance", "east", StorageRedundancy.LRS));
        var policy = (await host.ActAs(ann).GetRequiredService<PolicyService>().ListAsync(vault.Id)).Single();
        var folder = Path.Combine(host.SourceRoot, "finance");
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "ledger.txt"), "2026 ledger");
        var item = await host.Protection(ann).ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "finance", folder, null, null, Passphrase, Passphrase));
        return (item.Item.Id, folder);
    }

    private async Task<Job> BackUpAsync(Guid item)
    {
        var job = await host!.Protection(olga).BackUpNowAsync(item, DateTime.UtcNow.AddDays(30));
        return await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished());
    }

    private async Task<List<Alert>> AlertsAsync()
    {
        await using var db = database.Factory.CreateDbContext();
        return await db.Alerts.AsNoTracking().OrderBy(a => a.FirstRaisedAt).ToListAsync();
    }

    [Fact]
    public async Task Repeated_failures_of_one_item_update_one_alert_that_resolves_itself_when_the_next_backup_succeeds()
    {
        await StartHostAsync();
        var (item, folder) = await ProtectFinanceAsync();
        Directory.Delete(folder, recursive: true);

        var first = await BackUpAsync(item);
        var second = await BackUpAsync(item);

        Assert.Equal(JobStatus.Failed, second.Status);
        var alert = Assert.Single(await AlertsAsync());
        Assert.Equal(AlertKinds.BackupFailed, alert.Kind);
        Assert.Equal(AlertSeverity.Critical, alert.Severity);
        Assert.Equal(AlertState.Active, alert.State);
        Assert.Equal(2, alert.Occurrences);
        Assert.Equal("Backup of 'finance' failed", alert.Title);
        Assert.Contains(folder, alert.Cause); // the path
        Assert.Contains(second.Id.ToString()[..8], alert.Cause); // the latest job
        Assert.Equal($"jobs/{second.Id}", alert.Link);
        Assert.Contains("Back up now", alert.NextStep);
        Assert.NotEqual(first.Id, alert.JobId);
        var queries = host!.ActAs(rita).GetRequiredService<AlertQueries>();
        Assert.Equal(new AlertCounts(1, 0, 0), await queries.CountActiveAsync());

        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "ledger.txt"), "2026 ledger, restored");
        var third = await BackUpAsync(item);

        Assert.Equal(JobStatus.Completed, third.Status);
        var resolved = Assert.Single(await AlertsAsync());
        Assert.Equal(AlertState.Resolved, resolved.State);
        Assert.Equal(AlertService.Automatically, resolved.ResolvedBy);
        Assert.Contains("succeeded", resolved.Resolution);
        Assert.Equal(new AlertCounts(0, 0, 0), await queries.CountActiveAsync());

        // the same problem later is a new alert, not the old one reopened
        Directory.Delete(folder, recursive: true);
        await BackUpAsync(item);
        var alerts = await AlertsAsync();
        Assert.Equal(2, alerts.Count);
        Assert.Equal(1, alerts[1].Occurrences);
    }

    [Fact]
    public async Task A_failed_backup_is_mailed_once_with_its_cause_and_again_when_it_resolves()
    {
        await using var smtp = new LoopbackSmtpServer();
        var passwordFile = Path.Combine(root, "smtp-password");
        await File.WriteAllTextAsync(passwordFile, "s3cret-smtp\n");
        await StartHostAsync(new()
        {
            ["Alerts:Email:From"] = "Backup portal <backup@example.com>",
            ["Alerts:Email:Smtp:Host"] = "127.0.0.1",
            ["Alerts:Email:Smtp:Port"] = smtp.Port.ToString(),
            ["Alerts:Email:Smtp:UseTls"] = "false",
            ["Alerts:Email:Smtp:User"] = "portal",
            ["Alerts:Email:Smtp:PasswordFile"] = passwordFile,
            ["Alerts:Email:Recipients:Critical:0"] = "oncall@example.com",
            ["Alerts:Email:Recipients:Critical:1"] = "backup-team@example.com",
            ["Alerts:Email:Recipients:Warning:0"] = "backup-team@example.com",
            ["Alerts:PortalUrl"] = "https://backup.example.com",
        });
        var (item, folder) = await ProtectFinanceAsync();
        Directory.Delete(folder, recursive: true);

        var failed = await BackUpAsync(item);
        var mail = await smtp.NextAsync();

        Assert.Equal(["oncall@example.com", "backup-team@example.com"], mail.To);
        Assert.Equal(("portal", "s3cret-smtp"), (mail.User, mail.Password));
        Assert.Equal("[Critical] Backup of 'finance' failed", mail.Message.Subject);
        Assert.Contains(folder, mail.Message.TextBody); // the cause, with the path
        Assert.Contains("Next step:", mail.Message.TextBody);
        Assert.Contains($"https://backup.example.com/jobs/{failed.Id}", mail.Message.TextBody);

        await BackUpAsync(item); // the same failure again: counted, not mailed
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "ledger.txt"), "back");
        await BackUpAsync(item);

        var next = await smtp.NextAsync();
        Assert.Equal("[Resolved] Backup of 'finance' failed", next.Message.Subject);
        Assert.Contains("occurrences: 2", next.Message.TextBody);
    }

    [Fact]
    public async Task A_failed_backup_is_posted_to_the_webhook_as_documented_JSON_signed_with_the_shared_secret()
    {
        await using var hook = await LoopbackWebhook.StartAsync();
        var secretFile = Path.Combine(root, "webhook-secret");
        await File.WriteAllTextAsync(secretFile, "hook-secret-42");
        await StartHostAsync(new()
        {
            ["Alerts:Webhook:Urls:Critical:0"] = hook.Url,
            ["Alerts:Webhook:SecretFile"] = secretFile,
        });
        var (item, folder) = await ProtectFinanceAsync();
        Directory.Delete(folder, recursive: true);

        var failed = await BackUpAsync(item);
        var call = await hook.NextAsync();

        Assert.Equal(AlertWebhookSender.Sign("hook-secret-42", call.Body), call.Headers[AlertWebhookSender.SignatureHeader]);
        Assert.StartsWith("application/json", call.Headers["Content-Type"]);
        Assert.Equal("raised", call.Headers[AlertWebhookSender.EventHeader]);
        using var json = JsonDocument.Parse(call.Body);
        Assert.Equal("raised", json.RootElement.GetProperty("event").GetString());
        var alert = json.RootElement.GetProperty("alert");
        Assert.Equal("BackupFailed", alert.GetProperty("kind").GetString());
        Assert.Equal("critical", alert.GetProperty("severity").GetString());
        Assert.Equal("active", alert.GetProperty("state").GetString());
        Assert.Equal("finance", alert.GetProperty("itemName").GetString());
        Assert.Equal(failed.Id, alert.GetProperty("jobId").GetGuid());
        Assert.Contains(folder, alert.GetProperty("cause").GetString());
        Assert.False(string.IsNullOrEmpty(alert.GetProperty("nextStep").GetString()));
        Assert.Equal(1, alert.GetProperty("occurrences").GetInt32());
    }

    [Fact]
    public async Task A_webhook_that_never_answers_is_retried_then_marked_failed_on_the_alerts_page_without_touching_the_alert()
    {
        var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop(); // nothing listens there now
        await StartHostAsync(new()
        {
            ["Alerts:Webhook:Urls:Warning:0"] = $"http://127.0.0.1:{port}/hook",
            ["Alerts:Delivery:MaxAttempts"] = "2",
            ["Alerts:Delivery:FirstRetryDelay"] = "00:00:00",
        });
        var givenUp = WaitForAsync(async db => await db.AlertDeliveries.AnyAsync(d => d.State == AlertDeliveryState.Failed));

        var alert = await host!.Services.GetRequiredService<AlertService>().RaiseAsync(new AlertInput(
            "test:retention", AlertKinds.RetentionFailed, AlertSeverity.Warning, "Retention run of vault 'finance' failed", "The vault's storage failed.", "Check the region's replicas."));
        await givenUp;

        var row = Assert.Single((await host.ActAs(rita).GetRequiredService<AlertQueries>().ListAsync(new AlertQuery())).Items);
        Assert.Equal(alert.Id, row.Alert.Id);
        Assert.Equal(AlertState.Active, row.Alert.State);
        Assert.Equal(1, row.DeliveriesFailed);
        Assert.Contains("webhook call failed", row.LastDeliveryError);
        var delivery = Assert.Single(await host.ActAs(rita).GetRequiredService<AlertQueries>().DeliveriesAsync(alert.Id));
        Assert.Equal(2, delivery.Attempts);

        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => host.ActAs(rita).GetRequiredService<AlertQueries>().RetryDeliveryAsync(delivery.Id));
        await host.ActAs(olga).GetRequiredService<AlertQueries>().RetryDeliveryAsync(delivery.Id);
        await using var db = database.Factory.CreateDbContext();
        Assert.NotEqual(AlertDeliveryState.Sent, (await db.AlertDeliveries.SingleAsync()).State); // queued again (and failing again)
    }

    [Fact]
    public async Task A_failed_delivery_backs_off_30_s_then_doubling_and_gives_up_after_the_last_attempt()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 2, 8, 0, 0, TimeSpan.Zero));
        var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        var services = new ServiceCollection()
            .AddSingleton<Microsoft.Extensions.Configuration.IConfiguration>(new Microsoft.Extensions.Configuration.ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Alerts:Webhook:Urls:Critical:0"] = $"http://127.0.0.1:{port}/hook",
                ["Alerts:Delivery:MaxAttempts"] = "3",
            }).Build())
            .AddFeatureServices(database, clock)
            .AddSingleton<ICurrentUser>(new FixedCurrentUser(ann))
            .BuildServiceProvider();
        var worker = services.GetRequiredService<AlertDeliveryWorker>(); // not started: the test drives it
        await services.GetRequiredService<AlertService>().RaiseAsync(new AlertInput(
            "test:check", AlertKinds.IntegrityCheckFailed, AlertSeverity.Critical, "Integrity check of vault 'finance' failed", "2 damaged objects.", "Back the items up again."));

        async Task<AlertDelivery> DeliveryAsync()
        {
            await using var db = database.Factory.CreateDbContext();
            return await db.AlertDeliveries.AsNoTracking().SingleAsync();
        }

        Assert.Equal(1, await worker.DeliverDueAsync(default));
        var first = await DeliveryAsync();
        Assert.Equal((AlertDeliveryState.Pending, 1), (first.State, first.Attempts));
        Assert.Equal(clock.GetUtcNow().UtcDateTime.AddSeconds(30), first.NextAttemptAt);
        Assert.Equal(0, await worker.DeliverDueAsync(default)); // not due yet

        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(1, await worker.DeliverDueAsync(default));
        Assert.Equal(clock.GetUtcNow().UtcDateTime.AddSeconds(60), (await DeliveryAsync()).NextAttemptAt);

        clock.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(1, await worker.DeliverDueAsync(default));
        var last = await DeliveryAsync();
        Assert.Equal((AlertDeliveryState.Failed, 3), (last.State, last.Attempts));
        Assert.Contains("webhook call failed", last.LastError);
        clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal(0, await worker.DeliverDueAsync(default)); // given up: only "Send again" queues it
    }

    /// <summary>Completes when <paramref name="condition"/> holds, checked at once and after each alert change (no polling).</summary>
    private async Task WaitForAsync(Func<PortalDbContext, Task<bool>> condition)
    {
        var notifier = host!.Services.GetRequiredService<AlertNotifier>();
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var checking = new SemaphoreSlim(1);
        async void Check()
        {
            await checking.WaitAsync();
            try
            {
                await using var db = database.Factory.CreateDbContext();
                if (await condition(db))
                    reached.TrySetResult();
            }
            catch (Exception e)
            {
                reached.TrySetException(e);
            }
            finally
            {
                checking.Release();
            }
        }

        notifier.Changed += Check;
        try
        {
            Check();
            await reached.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            notifier.Changed -= Check;
        }
    }

    [Fact]
    public async Task RPO_breached_is_raised_by_the_evaluator_escalates_once_resolves_with_a_new_recovery_point_and_is_removed_90_days_later()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 2, 8, 0, 0, TimeSpan.Zero));
        var services = TestPortal.For(database, ann, clock);
        var vault = await services.Vaults().CreateAsync(new CreateVaultRequest("finance", "east", StorageRedundancy.LRS));
        var itemId = Guid.CreateVersion7();
        await using (var db = database.Factory.CreateDbContext())
        {
            var policy = await db.BackupPolicies.SingleAsync(p => p.VaultId == vault.Id); // daily: RPO 1 day, grace 6 hours
            db.BackupItems.Add(new BackupItem
            {
                Id = itemId, VaultId = vault.Id, Name = "finance", PolicyId = policy.Id, SourcePath = "/srv/finance", CreatedAt = clock.GetUtcNow().UtcDateTime, CreatedBy = "Ann",
            });
            await db.SaveChangesAsync();
        }

        var evaluator = services.GetRequiredService<AlertEvaluator>();
        clock.Advance(TimeSpan.FromHours(29));
        await evaluator.EvaluateAsync();
        Assert.Empty(await AlertsAsync());

        clock.Advance(TimeSpan.FromHours(2)); // 31 h without a recovery point
        await evaluator.EvaluateAsync();
        await evaluator.EvaluateAsync(); // evaluating again is not another occurrence
        var breached = Assert.Single(await AlertsAsync());
        Assert.Equal((AlertKinds.RpoBreached, AlertSeverity.Warning, 1), (breached.Kind, breached.Severity, breached.Occurrences));
        Assert.Equal("RPO breached for 'finance'", breached.Title);
        Assert.Contains("no recovery point yet", breached.Cause);
        Assert.Contains("Back up now", breached.NextStep);

        clock.Advance(TimeSpan.FromHours(30)); // past twice the limit
        await evaluator.EvaluateAsync();
        var escalated = Assert.Single(await AlertsAsync());
        Assert.Equal((AlertSeverity.Critical, AlertState.Active, breached.Id), (escalated.Severity, escalated.State, escalated.Id));

        await using (var db = database.Factory.CreateDbContext())
            await db.BackupItems.Where(i => i.Id == itemId).ExecuteUpdateAsync(s => s.SetProperty(i => i.LatestRecoveryPointAt, clock.GetUtcNow().UtcDateTime.AddMinutes(-5)));
        await evaluator.EvaluateAsync();
        var resolved = Assert.Single(await AlertsAsync());
        Assert.Equal((AlertState.Resolved, AlertService.Automatically), (resolved.State, resolved.ResolvedBy));
        Assert.Equal(clock.GetUtcNow().UtcDateTime, resolved.ResolvedAt);

        await using (var db = database.Factory.CreateDbContext()) // stopped: no RPO to breach while the months pass
            await db.BackupItems.Where(i => i.Id == itemId).ExecuteUpdateAsync(s => s.SetProperty(i => i.State, ProtectionState.ProtectionStopped));
        clock.Advance(TimeSpan.FromDays(89));
        await evaluator.EvaluateAsync();
        Assert.Single(await AlertsAsync());
        clock.Advance(TimeSpan.FromDays(1.1)); // resolved more than 90 days ago: removed
        await evaluator.EvaluateAsync();
        Assert.Empty(await AlertsAsync());
    }

    [Fact]
    public async Task Replication_lag_over_the_threshold_raises_an_alert_that_resolves_when_the_copy_catches_up()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 2, 8, 0, 0, TimeSpan.Zero));
        var services = TestPortal.For(database, ann, clock);
        var vault = await services.Vaults().CreateAsync(new CreateVaultRequest("finance", "east", StorageRedundancy.GRS));
        var status = services.GetRequiredService<ReplicationStatus>();
        var evaluator = services.GetRequiredService<AlertEvaluator>();
        var now = clock.GetUtcNow().UtcDateTime;

        status.Set(vault.Id, new VaultReplicationState(now, new ReplicationLag(12, 4096, TimeSpan.FromMinutes(20)), null, now, 0));
        await evaluator.EvaluateAsync();
        Assert.Empty(await AlertsAsync());

        status.Set(vault.Id, new VaultReplicationState(now, new ReplicationLag(40, 1 << 20, TimeSpan.FromHours(3)), null, now, 0));
        await evaluator.EvaluateAsync();
        var lag = Assert.Single(await AlertsAsync());
        Assert.Equal((AlertKinds.ReplicationLag, AlertSeverity.Warning), (lag.Kind, lag.Severity));
        Assert.Contains("3.0 hours", lag.Cause);

        status.Set(vault.Id, new VaultReplicationState(now, new ReplicationLag(0, 0, null), null, now, 0));
        await evaluator.EvaluateAsync();
        Assert.Equal(AlertState.Resolved, Assert.Single(await AlertsAsync()).State);
    }

    [Fact]
    public async Task Turning_soft_delete_off_raises_a_request_alert_then_a_critical_one_on_approval_that_resolves_when_it_is_on_again()
    {
        var vault = await TestPortal.For(database, ann).Vaults().CreateAsync(new CreateVaultRequest("finance", "east"));
        await TestPortal.For(database, ann).Vaults().UpdateAsync(new UpdateVaultRequest(vault.Id, vault.Version, StorageRedundancy.GRS, false, 14));

        var requested = Assert.Single(await AlertsAsync());
        Assert.Equal((AlertKinds.CriticalOperationRequested, AlertSeverity.Warning), (requested.Kind, requested.Severity));
        Assert.Contains("Ann", requested.Title);
        Assert.Contains("Approvals", requested.NextStep);

        var request = (await TestPortal.For(database, bob).Approvals().ListAsync()).Single();
        await TestPortal.For(database, bob).Approvals().ApproveAsync(request.Id);

        var alerts = await AlertsAsync();
        Assert.Equal(AlertState.Resolved, alerts.Single(a => a.Id == requested.Id).State);
        Assert.Contains("Approved by Bob", alerts.Single(a => a.Id == requested.Id).Resolution);
        var off = alerts.Single(a => a.Kind == AlertKinds.SoftDeleteDisabled);
        Assert.Equal((AlertSeverity.Critical, AlertState.Active), (off.Severity, off.State));
        Assert.Contains("approved by Bob", off.Cause);
        Assert.Contains("turn soft delete on again", off.NextStep);

        var current = (await TestPortal.For(database, ann).Vaults().GetAsync("finance"))!;
        await TestPortal.For(database, ann).Vaults().UpdateAsync(new UpdateVaultRequest(current.Id, current.Version, StorageRedundancy.GRS, true, 14));
        await TestPortal.For(database, ann).GetRequiredService<AlertEvaluator>().EvaluateAsync();
        Assert.Equal(AlertState.Resolved, (await AlertsAsync()).Single(a => a.Id == off.Id).State);
    }

    [Fact]
    public async Task Everyone_sees_alerts_but_only_operators_and_contributors_acknowledge_and_resolve_them()
    {
        var raised = await TestPortal.For(database, ann).GetRequiredService<AlertService>().RaiseAsync(new AlertInput(
            "test:check", AlertKinds.IntegrityCheckFailed, AlertSeverity.Critical, "Integrity check of vault 'finance' failed", "2 damaged objects.", "Back the items up again."));
        var asRita = TestPortal.For(database, rita).GetRequiredService<AlertQueries>();
        var asOlga = TestPortal.For(database, olga).GetRequiredService<AlertQueries>();

        Assert.Single((await asRita.ListAsync(new AlertQuery())).Items);
        var denied = await Assert.ThrowsAsync<PortalAccessDeniedException>(() => asRita.AcknowledgeAsync(raised.Id));
        Assert.Contains("Backup.Operator", denied.Message);
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => asRita.ResolveAsync(raised.Id));
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => TestPortal.For(database, TestUsers.Anonymous).GetRequiredService<AlertQueries>().CountActiveAsync());

        await asOlga.AcknowledgeAsync(raised.Id);
        var again = await Assert.ThrowsAsync<PortalConflictException>(() => asOlga.AcknowledgeAsync(raised.Id));
        Assert.Contains("Olga already acknowledged", again.Message);
        await asOlga.ResolveAsync(raised.Id);

        var alert = Assert.Single(await AlertsAsync());
        Assert.Equal(("Olga", AlertState.Resolved, "Olga"), (alert.AcknowledgedBy, alert.State, alert.ResolvedBy));
        Assert.Empty((await asRita.ListAsync(new AlertQuery())).Items); // active only by default
        Assert.Single((await asRita.ListAsync(new AlertQuery(State: AlertState.Resolved))).Items);
        var audit = await TestPortal.For(database, ann).Audit().QueryAsync(new Portal.Features.Audit.AuditQuery());
        Assert.Contains(audit.Items, e => e.Action == AlertQueries.ResolveAction && e.ActorName == "Olga");
        Assert.Contains(audit.Items, e => e.Action == AlertQueries.AcknowledgeAction && e.Outcome == Portal.Features.Audit.AuditOutcome.Refused);
    }

    [Fact]
    public void Alert_configuration_mistakes_are_named_at_start()
    {
        var options = new AlertOptions();
        options.Email.Recipients.Critical.Add("not-an-address");
        options.Email.Recipients.Warning.Add("ops@example.com");
        options.Email.Smtp.User = "portal";
        options.Webhook.Urls.Information.Add("ftp://hooks.example.com");
        options.Webhook.SecretFile = "/nonexistent/secret";

        var result = new AlertOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        var errors = result.Failures!.ToList();
        Assert.Contains(errors, e => e.StartsWith("Alerts:Email:Recipients:Critical:0 (\"not-an-address\") is not an email address"));
        Assert.Contains(errors, e => e.StartsWith("Alerts:Email:Smtp:Host is empty"));
        Assert.Contains(errors, e => e.StartsWith("Alerts:Email:From"));
        Assert.Contains(errors, e => e.Contains("without Alerts:Email:Smtp:PasswordFile"));
        Assert.Contains(errors, e => e.StartsWith("Alerts:Webhook:Urls:Information:0 (\"ftp://hooks.example.com\") is not an http(s) address"));
        Assert.Contains(errors, e => e.StartsWith("Alerts:Webhook:SecretFile"));
        Assert.True(new AlertOptionsValidator().Validate(null, new AlertOptions()).Succeeded); // nothing configured: alerts only in the portal
    }
}
