using Bunit;
using Microsoft.EntityFrameworkCore;
using MudBlazor;
using Portal.Components.Pages.Vaults;
using Portal.Features.Audit;
using Portal.Features.Identity;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>
/// The vault page's backup upload limits: a reader sees the limits in force (appsettings' default) and no way to change
/// them; a contributor changes them in the replication limits' dialog, where what is wrong is said at its field and
/// nothing is saved until it is right.
/// </summary>
public sealed class UploadLimitsPanelTests : ProtectionComponentTest
{
    /// <summary>The limits line as a browser shows it (runs of white space collapsed).</summary>
    private static string Shown(IRenderedComponent<VaultDetail> page) =>
        System.Text.RegularExpressions.Regex.Replace(page.Find("[data-testid=vault-upload-limits]").TextContent, @"\s+", " ").Trim();

    [Fact]
    public async Task A_reader_sees_the_default_and_cannot_change_it()
    {
        await CreateVaultAsync("payroll");
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));
        var page = RenderPage<VaultDetail>(p => p.Add(c => c.Name, "payroll"));

        page.WaitForAssertion(() => Assert.Contains("No limit: backups upload as fast as the region takes it. (the default, from Storage:Regions (east)",
            Shown(page)));
        Assert.Empty(page.FindAll("[data-testid=vault-upload-limits-edit]"));
    }

    [Fact]
    public async Task A_contributor_is_told_what_is_wrong_at_the_field_and_the_fixed_limits_are_saved_audited_and_shown()
    {
        var vault = await CreateVaultAsync("payroll");
        SignIn(TestUsers.WithRoles("Ann", PortalRoles.Contributor));
        var page = RenderPage<VaultDetail>(p => p.Add(c => c.Name, "payroll"));
        var dialogs = Context.Render<MudDialogProvider>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=vault-upload-limits-edit]")));

        await ClickAsync(page, "[data-testid=vault-upload-limits-edit]");
        dialogs.WaitForAssertion(() => Assert.Contains("Limit how fast this portal's backups of payroll upload to east", dialogs.Markup));
        Assert.Contains("No limit: backups upload as fast as the region takes it.", dialogs.Markup); // the default, in this kind's words
        dialogs.Find("#replication-work-mbps").Input("lots");
        dialogs.Find("#replication-other-mbps").Input("200000");
        await ClickAsync(dialogs, "[data-testid=replication-limits-save]");

        dialogs.WaitForAssertion(() => Assert.Equal(2, dialogs.FindAll(".mud-input-helper-text.mud-input-error").Count));
        var errors = dialogs.FindAll(".mud-input-helper-text.mud-input-error").Select(e => e.TextContent).ToList();
        Assert.Contains(errors, e => e.StartsWith("Enter the limit during work hours in megabits per second"));
        Assert.Contains(errors, e => e.StartsWith("A limit at other times is from 0.064 Mbps (8 KB/s) to 100,000 Mbps"));
        await using (var db = Database.Factory.CreateDbContext())
            Assert.Equal(0, await db.VaultUploadLimits.CountAsync()); // nothing saved

        dialogs.Find("#replication-work-mbps").Input("8");
        dialogs.Find("#replication-other-mbps").Input("");
        await ClickAsync(dialogs, "[data-testid=replication-limits-save]");

        page.WaitForAssertion(() => Assert.Contains("at most 8 Mbps during work hours (Monday to Friday, 08:00–18:00 UTC), no limit at other times. Set by Ann",
            Shown(page)));
        await using (var db = Database.Factory.CreateDbContext())
        {
            Assert.Equal(8, (await db.VaultUploadLimits.SingleAsync(l => l.VaultId == vault.Id)).WorkHoursMbps);
            var entry = await db.AuditEntries.SingleAsync(e => e.Action == AuditActions.VaultBackupUploadLimits);
            Assert.Equal("appsettings' defaults → at most 8 Mbps during work hours (Monday to Friday, 08:00–18:00 UTC), no limit at other times.", entry.Detail);
        }
    }
}
