using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Portal.Components.Layout;
using Portal.Components.Pages;
using Portal.Components.Pages.Alerts;
using Portal.Components.Shared;
using Portal.Features.Alerts;
using Portal.Features.Identity;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>
/// Issue 25: a help-desk person (Restore.Operator only) starts at Restore files and is not offered menu entries or alert
/// links to pages they cannot open or act on (Approvals, the audit log); the other roles keep theirs.
/// </summary>
public sealed class HelpDeskNavigationTests : PortalComponentTest
{
    private static string[] Menu(IRenderedComponent<NavMenu> menu) => [.. menu.FindAll(".mud-nav-link-text").Select(l => l.TextContent.Trim())];

    [Fact]
    public void Help_desk_sees_restore_files_first_and_no_backup_center_approvals_or_audit_log()
    {
        SignIn(TestUsers.WithRoles("Helen", PortalRoles.RestoreOperator));
        var menu = RenderPage<NavMenu>();

        menu.WaitForAssertion(() => Assert.Equal("Restore files", Menu(menu).FirstOrDefault()));
        Assert.DoesNotContain("Approvals", Menu(menu));
        Assert.DoesNotContain("Audit log", Menu(menu));
        Assert.DoesNotContain("Backup center", Menu(menu));
    }

    [Theory]
    [InlineData(PortalRoles.Contributor, true)]
    [InlineData(PortalRoles.Reader, true)]
    [InlineData(PortalRoles.Operator, false)]
    public void Other_roles_keep_the_backup_center_and_approvals_and_the_audit_log_where_they_may_read_it(string role, bool audit)
    {
        SignIn(TestUsers.WithRoles("Ann", role));
        var menu = RenderPage<NavMenu>();

        menu.WaitForAssertion(() => Assert.Equal("Backup center", Menu(menu).FirstOrDefault()));
        Assert.Contains("Approvals", Menu(menu));
        Assert.Contains("Restore files", Menu(menu));
        Assert.Equal(audit, Menu(menu).Contains("Audit log"));
    }

    [Theory]
    [InlineData(PortalRoles.RestoreOperator, new[] { "Backup jobs", "Restore files" })]
    [InlineData(PortalRoles.Reader, new[] { "Backup center", "Backup jobs", "Restore files" })]
    public void Breadcrumbs_offer_only_pages_the_user_can_open(string role, string[] expected)
    {
        SignIn(TestUsers.WithRoles("Helen", role));

        var header = RenderPage<PageHeader>(p => p.Add(h => h.Title, "Restore files")
            .Add(h => h.Parents, [(Crumbs.BackupCenter, Crumbs.BackupCenterHref), (Crumbs.Jobs, Crumbs.JobsHref)]));

        header.WaitForAssertion(() => Assert.Equal(expected, header.FindAll(".mud-breadcrumb-item").Select(c => c.TextContent.Trim())));
    }

    [Fact]
    public void Help_desk_opening_the_portal_lands_on_restore_files()
    {
        SignIn(TestUsers.WithRoles("Helen", PortalRoles.RestoreOperator));
        var navigation = Context.Services.GetRequiredService<NavigationManager>();

        RenderPage<Home>();

        Assert.Equal(navigation.BaseUri + "restore", navigation.Uri);
    }

    [Fact]
    public async Task Help_desk_sees_the_alert_without_a_link_to_approvals_a_contributor_sees_the_link()
    {
        var alerts = Context.Services.GetRequiredService<AlertService>();
        await alerts.RaiseAsync(new AlertInput("approval", AlertKinds.BackupFailed, AlertSeverity.Information, "Critical operation requested",
            "Ann asked to delete vault finance.", "Another Backup.Contributor approves or rejects it on Approvals.") { Link = "approvals" });
        await alerts.RaiseAsync(new AlertInput("job", AlertKinds.BackupFailed, AlertSeverity.Critical, "Backup of 'finance' failed",
            "The folder is gone.", "Fix it, then back up now.") { Link = "items" });

        SignIn(TestUsers.WithRoles("Helen", PortalRoles.RestoreOperator));
        var page = RenderPage<AlertList>();

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=alert-row]").Count));
        Assert.Equal(["items"], page.FindAll("[data-testid=alert-link]").Select(l => l.GetAttribute("href")));
    }

    [Fact]
    public async Task A_contributor_sees_the_alerts_link_to_approvals()
    {
        await Context.Services.GetRequiredService<AlertService>().RaiseAsync(new AlertInput("approval", AlertKinds.BackupFailed, AlertSeverity.Information,
            "Critical operation requested", "Ann asked to delete vault finance.", "Another Backup.Contributor approves or rejects it on Approvals.") { Link = "approvals" });

        SignIn(TestUsers.WithRoles("Cleo", PortalRoles.Contributor));
        var page = RenderPage<AlertList>();

        page.WaitForAssertion(() => Assert.Equal(["approvals"], page.FindAll("[data-testid=alert-link]").Select(l => l.GetAttribute("href"))));
    }
}
