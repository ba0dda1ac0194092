using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Portal.Components.Layout;
using Portal.Components.Pages.Alerts;
using Portal.Features.Alerts;
using Portal.Features.Identity;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>The bell in the top bar and the Alerts page, over the real alert service and database.</summary>
public sealed class AlertComponentTests : PortalComponentTest
{
    private AlertService Service => Context.Services.GetRequiredService<AlertService>();

    private static AlertInput Input(string key, AlertSeverity severity, string title = "Backup of 'finance' failed") =>
        new(key, AlertKinds.BackupFailed, severity, title, "Backup of 'finance' failed (job 0190abcd): The folder /srv/finance does not exist on the portal host (any more).",
            "Fix what the job names above, then run Back up now on 'finance'.")
        {
            VaultName = "finance", ItemName = "finance", Link = "items",
        };

    [Fact]
    public async Task The_bell_counts_active_alerts_by_severity_and_follows_changes_while_open()
    {
        await Service.RaiseAsync(Input("a", AlertSeverity.Critical));
        await Service.RaiseAsync(Input("b", AlertSeverity.Warning));
        await Service.RaiseAsync(Input("c", AlertSeverity.Warning));
        await Service.RaiseAsync(Input("c", AlertSeverity.Warning)); // the same problem again: still two warnings
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));

        var bell = RenderPage<AlertBell>();

        bell.WaitForAssertion(() => Assert.Equal("1 critical", bell.Find("[data-testid=alert-count-critical]").TextContent.Trim()));
        Assert.Equal("2 warning", bell.Find("[data-testid=alert-count-warning]").TextContent.Trim());
        Assert.Empty(bell.FindAll("[data-testid=alert-count-information]"));
        Assert.Equal("alerts", bell.Find("[data-testid=alert-bell-button]").GetAttribute("href"));
        Assert.Equal("Alerts: 1 critical, 2 warning", bell.Find("[data-testid=alert-bell-button]").GetAttribute("aria-label"));

        await Service.RaiseAsync(Input("d", AlertSeverity.Information, "Critical operation requested"));
        bell.WaitForAssertion(() => Assert.Equal("1 info", bell.Find("[data-testid=alert-count-information]").TextContent.Trim()));
        await Service.ResolveAsync("a", "The next backup succeeded.");
        bell.WaitForAssertion(() => Assert.Empty(bell.FindAll("[data-testid=alert-count-critical]")));
    }

    [Fact]
    public async Task The_bell_counts_again_when_a_job_finishes_on_another_portal_instance()
    {
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));
        var bell = RenderPage<AlertBell>();
        bell.WaitForAssertion(() => Assert.NotEmpty(bell.FindAll("[data-testid=alert-bell]")));

        // another instance saved the alert (its notifier is not ours), then announced its finished job, which reaches us as a job change
        await using (var db = Database.Factory.CreateDbContext())
        {
            var now = DateTime.UtcNow;
            db.Alerts.Add(new Alert
            {
                Id = Guid.CreateVersion7(), Key = "BackupFailed:elsewhere", Kind = AlertKinds.BackupFailed, Severity = AlertSeverity.Critical, Title = "Backup of 'hr' failed",
                Cause = "…", NextStep = "…", FirstRaisedAt = now, LastRaisedAt = now,
            });
            await db.SaveChangesAsync();
        }

        Context.Services.GetRequiredService<Portal.Features.Jobs.JobNotifier>().Publish(
            new Portal.Features.Jobs.Job { Id = Guid.NewGuid(), Status = Portal.Features.Jobs.JobStatus.Failed });

        bell.WaitForAssertion(() => Assert.Equal("1 critical", bell.Find("[data-testid=alert-count-critical]").TextContent.Trim()));
    }

    [Fact]
    public async Task Someone_without_a_portal_role_gets_no_bell()
    {
        await Service.RaiseAsync(Input("a", AlertSeverity.Critical));
        SignIn(TestUsers.Anonymous);

        var bell = RenderPage<AlertBell>();

        Assert.Empty(bell.FindAll("[data-testid=alert-bell]"));
    }

    [Fact]
    public async Task The_alerts_page_says_cause_and_next_step_and_lets_an_operator_acknowledge_and_resolve()
    {
        await Service.RaiseAsync(Input("a", AlertSeverity.Critical));
        await Service.RaiseAsync(Input("a", AlertSeverity.Critical));
        SignIn(TestUsers.WithRoles("Olga", PortalRoles.Operator));

        var page = RenderPage<AlertList>();

        page.WaitForAssertion(() => Assert.Contains("/srv/finance does not exist", page.Find("[data-testid=alert-cause]").TextContent));
        Assert.Contains("Next step: Fix what the job names above", page.Find("[data-testid=alert-next-step]").TextContent);
        Assert.Contains("2 times since", page.Find("[data-testid=alert-occurrences]").TextContent);
        await page.InvokeAsync(() => page.Find("[data-testid=alert-acknowledge]").Click()); // found and clicked in one render: the table reloads around it
        page.WaitForAssertion(() => Assert.Equal("Active, acknowledged by Olga", page.Find("[data-testid=alert-row-state]").TextContent.Trim()));
        Assert.Empty(page.FindAll("[data-testid=alert-acknowledge]"));
        // The acknowledged row can show (a change notice reloads the table) while the acknowledge action is still
        // finishing, its buttons disabled: a click then does nothing. Click Resolve once it can be clicked, as a person would.
        page.WaitForAssertion(() => Assert.False(page.Find("[data-testid=alert-resolve]").HasAttribute("disabled")));

        await page.InvokeAsync(() => page.Find("[data-testid=alert-resolve]").Click()); // found and clicked in one render: the table reloads around it
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=alerts-empty]"))); // the list shows active alerts
    }

    [Fact]
    public async Task A_reader_sees_alerts_and_failed_deliveries_but_no_actions()
    {
        var alert = await Service.RaiseAsync(Input("a", AlertSeverity.Warning));
        await using (var db = Database.Factory.CreateDbContext())
        {
            db.AlertDeliveries.Add(new AlertDelivery
            {
                Id = Guid.CreateVersion7(), AlertId = alert.Id, Channel = AlertChannel.Email, Event = AlertEvent.Raised, Target = "ops@example.com", Payload = "{}",
                State = AlertDeliveryState.Failed, Attempts = 8, CreatedAt = DateTime.UtcNow, NextAttemptAt = DateTime.UtcNow,
                LastError = "Could not connect: Connection refused",
            });
            await db.SaveChangesAsync();
        }

        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));
        var page = RenderPage<AlertList>();

        page.WaitForAssertion(() => Assert.Contains("Failed: Could not connect", page.Find("[data-testid=alert-row-delivery]").TextContent));
        page.WaitForAssertion(() => Assert.Contains("1 email(s) or webhook call(s) could not be delivered", page.Find("[data-testid=alert-delivery-failures]").TextContent));
        Assert.Empty(page.FindAll("[data-testid=alert-acknowledge]"));
        Assert.Empty(page.FindAll("[data-testid=alert-resolve]"));
        Assert.Empty(page.FindAll("[data-testid=alert-retry]"));
    }
}
