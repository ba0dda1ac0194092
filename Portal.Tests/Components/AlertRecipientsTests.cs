using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Components.Pages.Alerts;
using Portal.Features.Alerts;
using Portal.Features.Audit;
using Portal.Features.Identity;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>
/// Issue 25: alert email recipients are set in the portal by a Backup.Contributor (audited), stored in the database and
/// used by the alert mailer; the configuration file's list is the default until then.
/// </summary>
public sealed class AlertRecipientsTests : PortalComponentTest
{
    private void WithSmtp() =>
        Context.Services.PostConfigure<AlertOptions>(o => (o.Email.Smtp.Host, o.Email.From) = ("smtp.example.com", "Backup portal <backup@example.com>"));

    [Fact]
    public async Task A_contributor_sets_the_recipients_a_bad_address_is_refused_at_its_field_and_the_next_alert_mails_the_new_ones()
    {
        WithSmtp();
        SignIn(TestUsers.WithRoles("Ann", PortalRoles.Contributor));
        var page = RenderPage<AlertList>();
        page.WaitForAssertion(() => Assert.Contains("From the configuration file", page.Find("[data-testid=alert-recipients-source]").TextContent));

        page.Find("#recipients-critical").Input("ops@example.com");
        page.Find("#recipients-warning").Input("not an address");
        await ClickAsync(page, "[data-testid=alert-recipients-save]");
        page.WaitForAssertion(() => Assert.Contains("\"not an address\" is not an email address such as ops@example.com.", page.Find("[data-testid=alert-recipients]").TextContent));
        await using (var db = Database.Factory.CreateDbContext())
            Assert.False(await db.AlertRecipients.AnyAsync());

        page.Find("#recipients-warning").Input("ops@example.com\nlead@example.com");
        await ClickAsync(page, "[data-testid=alert-recipients-save]");
        page.WaitForAssertion(() => Assert.Contains("Set in the portal by Ann", page.Find("[data-testid=alert-recipients-source]").TextContent));

        await Context.Services.GetRequiredService<AlertService>().RaiseAsync(new AlertInput("k", AlertKinds.BackupFailed, AlertSeverity.Warning, "Backup failed", "cause", "next"));
        await using var check = Database.Factory.CreateDbContext();
        var delivery = await check.AlertDeliveries.SingleAsync();
        Assert.Equal((AlertChannel.Email, "ops@example.com, lead@example.com"), (delivery.Channel, delivery.Target));
        var audited = await check.AuditEntries.Where(a => a.Action == AuditActions.AlertRecipients).ToListAsync();
        var entry = Assert.Single(audited); // the bad address was a form mistake, not an audit event
        Assert.Contains("warning: ops@example.com, lead@example.com", entry.Detail);
    }

    [Fact]
    public async Task Recipients_are_refused_in_words_while_the_portal_has_no_smtp_server_and_others_may_not_change_them()
    {
        SignIn(TestUsers.WithRoles("Ann", PortalRoles.Contributor));
        var page = RenderPage<AlertList>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("#recipients-critical")));

        page.Find("#recipients-critical").Input("ops@example.com");
        await ClickAsync(page, "[data-testid=alert-recipients-save]");

        page.WaitForAssertion(() => Assert.Contains("cannot send email yet", page.Find("[data-testid=alert-recipients]").TextContent));
        var operatorSettings = TestPortal.For(Database, TestUsers.WithRoles("Olga", PortalRoles.Operator)).GetRequiredService<AlertSettingsService>();
        await Assert.ThrowsAsync<Portal.Features.Common.PortalAccessDeniedException>(() => operatorSettings.SaveRecipientsAsync("a@example.com", null, null, 0));
    }

    [Fact]
    public void A_reader_sees_no_recipients_section()
    {
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));

        var page = RenderPage<AlertList>();

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=alerts-empty]")));
        Assert.Empty(page.FindAll("[data-testid=alert-recipients]"));
    }
}
