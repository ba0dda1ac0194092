using Bunit;
using MudBlazor;
using Portal.Components.Pages.Approvals;
using Portal.Features.Identity;
using Portal.Features.Reports;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;
using Portal.Tests.Machines;

namespace Portal.Tests.Components;

/// <summary>Approving a vault's deletion asks first, with what the vault holds (issue 25: it was one click).</summary>
public sealed class ApproveDialogTests : ProtectionComponentTest
{
    [Fact]
    public async Task Approving_a_vault_deletion_shows_what_the_vault_holds_cancel_keeps_it_and_confirm_deletes_it()
    {
        var vault = await CreateVaultAsync("payroll");
        await Database.AddMachineAsync(vault.Id, "web01", DateTime.UtcNow.AddDays(-3));
        await Database.AddMachineAsync(vault.Id, "old01", DateTime.UtcNow.AddDays(-9), m => m.RevokedAt = DateTime.UtcNow.AddDays(-1));
        var measured = new DateTime(2026, 12, 7, 3, 0, 0, DateTimeKind.Utc);
        await using (var db = Database.Factory.CreateDbContext())
        {
            db.StorageUsage.Add(new StorageUsage { VaultId = vault.Id, Region = "east", Day = DateOnly.FromDateTime(measured), Bytes = 3_000_000, Objects = 12, MeasuredAt = measured });
            await db.SaveChangesAsync();
        }

        await TestPortal.For(Database, TestUsers.WithRoles("Erin", PortalRoles.Contributor)).Vaults().RequestDeleteAsync(vault.Id, vault.Version, "payroll");
        SignIn(TestUsers.WithRoles("Frank", PortalRoles.Contributor));
        var page = RenderPage<ApprovalList>();
        var dialogs = Context.Render<MudDialogProvider>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=approval-approve]")));

        page.Find("[data-testid=approval-approve]").Click();
        dialogs.WaitForAssertion(() => Assert.NotEmpty(dialogs.FindAll("[data-testid=approve-holdings]")));
        Assert.Contains("Delete vault payroll", dialogs.Find("[data-testid=approve-summary]").TextContent);
        Assert.Equal("none", dialogs.Find("[data-testid=holdings-items]").TextContent);
        Assert.Equal("0", dialogs.Find("[data-testid=holdings-points]").TextContent);
        Assert.Equal("1 active, 1 revoked", dialogs.Find("[data-testid=holdings-machines]").TextContent);
        Assert.Equal("3 MB (measured 2026-12-07 03:00 UTC)", dialogs.Find("[data-testid=holdings-storage]").TextContent);
        Assert.Equal("Approve: delete payroll", dialogs.Find("[data-testid=approve-confirm]").TextContent.Trim());

        dialogs.Find("[data-testid=approve-cancel]").Click();
        dialogs.WaitForAssertion(() => Assert.Empty(dialogs.FindAll("[data-testid=approve-dialog]")));
        Assert.Contains("Waiting for approval", page.Find("[data-testid=approval-status]").TextContent);
        var reader = TestPortal.For(Database, TestUsers.WithRoles("Rita", PortalRoles.Reader)).Vaults();
        Assert.NotNull(await reader.GetAsync("payroll"));

        page.Find("[data-testid=approval-approve]").Click();
        dialogs.WaitForAssertion(() => Assert.NotEmpty(dialogs.FindAll("[data-testid=approve-holdings]")));
        dialogs.Find("[data-testid=approve-confirm]").Click();

        page.WaitForAssertion(() => Assert.Equal("Approved", page.Find("[data-testid=approval-status]").TextContent));
        Assert.Null(await reader.GetAsync("payroll"));
    }

    [Fact]
    public async Task A_vault_that_received_an_item_since_the_request_says_the_deletion_will_be_refused()
    {
        var vault = await CreateVaultAsync("payroll");
        await TestPortal.For(Database, TestUsers.WithRoles("Erin", PortalRoles.Contributor)).Vaults().RequestDeleteAsync(vault.Id, vault.Version, "payroll");
        await SeedItemAsync(vault, "Salaries", Portal.Features.Protection.ProtectionState.Protected);
        SignIn(TestUsers.WithRoles("Frank", PortalRoles.Contributor));
        var page = RenderPage<ApprovalList>();
        var dialogs = Context.Render<MudDialogProvider>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=approval-approve]")));

        page.Find("[data-testid=approval-approve]").Click();

        dialogs.WaitForAssertion(() => Assert.Equal("1 protected", dialogs.Find("[data-testid=holdings-items]").TextContent));
        Assert.Contains("will be refused", dialogs.Find("[data-testid=approve-not-empty]").TextContent);
        Assert.Equal("not measured yet", dialogs.Find("[data-testid=holdings-storage]").TextContent);
    }
}
