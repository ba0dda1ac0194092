using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Components.Pages.Vaults;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Protection;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>
/// The vault page's checks: the Vault data menu's check items start a check and open its job; the Verification panel
/// shows the nightly schedule, a contributor changes it (with its limits said), an operator verifies now.
/// </summary>
public sealed class VaultVerificationPanelTests : ProtectionComponentTest
{
    private const string Passphrase = "correct horse battery staple";

    /// <summary>A vault with a repository (its key sealed on this portal), as after its first backup.</summary>
    private async Task<VaultDetails> VaultWithDataAsync()
    {
        var details = await CreateVaultAsync("payroll");
        await using var db = Database.Factory.CreateDbContext();
        await Context.Services.GetRequiredService<VaultKeys>().UnlockAsync(await db.Vaults.SingleAsync(), Passphrase, "Setup");
        return details;
    }

    private string Location => Context.Services.GetRequiredService<NavigationManager>().Uri;

    [Theory]
    [InlineData("vault-check", "check")]
    [InlineData("vault-check-read-data", "check (read all data)")]
    public async Task An_operator_starts_a_check_from_the_vault_data_menu_and_lands_on_its_job(string menuItem, string subject)
    {
        await VaultWithDataAsync();
        SignIn(TestUsers.WithRoles("Olga", PortalRoles.Operator));
        var page = RenderPage<VaultDetail>(p => p.Add(c => c.Name, "payroll"));
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=vault-data-menu] button")));

        await ClickAsync(page, "[data-testid=vault-data-menu] button");
        Popovers.WaitForAssertion(() => Assert.NotEmpty(Popovers.FindAll($"[data-testid={menuItem}]")));
        await ClickAsync(Popovers, $"[data-testid={menuItem}]");

        page.WaitForAssertion(() => Assert.Contains("/jobs/", Location));
        await using var db = Database.Factory.CreateDbContext();
        var job = await db.Jobs.SingleAsync();
        Assert.Equal((JobKind.Check, subject, "Olga"), (job.Kind, job.Subject, job.StartedBy));
        Assert.EndsWith($"/jobs/{job.Id}", Location);
    }

    [Fact]
    public async Task The_panel_says_the_nightly_schedule_and_an_operator_verifies_now_without_changing_it()
    {
        await VaultWithDataAsync();
        SignIn(TestUsers.WithRoles("Olga", PortalRoles.Operator));
        var page = RenderPage<VaultDetail>(p => p.Add(c => c.Name, "payroll"));

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=vault-verification-schedule]")));
        Assert.Matches(@"^Every night \(next at \d{4}-\d\d-\d\d 01:30 UTC\), the structure of every recovery point is checked .* every pack is read once every 30 days, at most 50 GiB a night\.$",
            page.Find("[data-testid=vault-verification-schedule]").TextContent);
        Assert.Equal("The portal host's repository: not verified yet.", page.Find("[data-testid=vault-verification-repository]").TextContent.Trim());
        Assert.Empty(page.FindAll("[data-testid=vault-verification-edit]")); // the schedule is a contributor's

        await ClickAsync(page, "[data-testid=vault-verify-now]");

        page.WaitForAssertion(() => Assert.Contains("/jobs/", Location));
        await using var db = Database.Factory.CreateDbContext();
        var job = await db.Jobs.SingleAsync();
        Assert.Equal((JobKind.Check, "verification"), (job.Kind, job.Subject));
        Assert.EndsWith($"/jobs/{job.Id}", Location);
    }

    [Fact]
    public async Task A_contributor_changes_the_schedule_and_is_told_what_is_out_of_range()
    {
        await VaultWithDataAsync();
        SignIn(TestUsers.WithRoles("Ann", PortalRoles.Contributor));
        var page = RenderPage<VaultDetail>(p => p.Add(c => c.Name, "payroll"));
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=vault-verification-edit]")));

        await ClickAsync(page, "[data-testid=vault-verification-edit]");
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("#verification-period")));
        page.Find("#verification-period").Input("400");
        await ClickAsync(page, "[data-testid=vault-verification-save]");
        page.WaitForAssertion(() => Assert.Contains("Read every pack once in 1 to 365 days.", page.Find("[data-testid=vault-verification-form]").TextContent));

        page.Find("#verification-period").Input("7");
        page.Find("#verification-budget").Input("200");
        await ClickAsync(page, "[data-testid=vault-verification-save]");

        page.WaitForAssertion(() => Assert.EndsWith("every pack is read once every 7 days, at most 200 GiB a night.", page.Find("[data-testid=vault-verification-schedule]").TextContent));
        Assert.Empty(page.FindAll("[data-testid=vault-verification-form]"));
        await using var db = Database.Factory.CreateDbContext();
        Assert.Equal("nightly; every pack read once in 7 days, at most 200 GiB a night",
            (await db.AuditEntries.SingleAsync(a => a.Action == "Vault.VerificationSettings" && a.Outcome == Portal.Features.Audit.AuditOutcome.Succeeded)).Detail);
    }
}
