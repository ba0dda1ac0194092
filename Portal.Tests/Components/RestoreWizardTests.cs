using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Components.Pages.Restore;
using Portal.Features.Identity;
using Portal.Features.Protection;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>The restore wizard's steps and their validation, on a real recovery point.</summary>
public sealed class RestoreWizardTests : ProtectionComponentTest
{
    /// <summary>A vault with an item "share" and one real recovery point of it.</summary>
    private async Task SeedPointAsync()
    {
        var vault = await CreateVaultAsync("legal");
        Directory.CreateDirectory(Path.Combine(SourceRoot, "share"));
        File.WriteAllText(Path.Combine(SourceRoot, "share", "contract.txt"), "signed");
        await using (var db = Database.Factory.CreateDbContext())
            await Context.Services.GetRequiredService<VaultKeys>().UnlockAsync(await db.Vaults.SingleAsync(), "correct horse battery staple", "Setup");
        var item = await SeedItemAsync(vault, "share", ProtectionState.Protected);
        await Context.Services.GetRequiredService<Backups>().RunScheduledAsync(item.Id, CancellationToken.None);
    }

    private IRenderedComponent<RestoreWizard> OpenAtFiles(string role)
    {
        SignIn(TestUsers.WithRoles("Helen", role));
        var page = RenderPage<RestoreWizard>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=restore-item]")));
        page.Find("[data-testid=restore-item]").Click();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=restore-point]")));
        page.Find("[data-testid=restore-point]").Click();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=restore-entry]")));
        return page;
    }

    [Fact]
    public void A_reader_is_told_that_restoring_needs_a_role()
    {
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));
        var page = RenderPage<RestoreWizard>();
        page.WaitForAssertion(() => Assert.Contains("needs the Restore.Operator", page.Find("[data-testid=restore-not-allowed]").TextContent));
        Assert.Empty(page.FindAll("[data-testid=restore-wizard]"));
    }

    [Fact]
    public async Task Files_must_be_selected_before_next_and_a_restore_operator_cannot_overwrite_the_original_location()
    {
        await SeedPointAsync();
        var page = OpenAtFiles(PortalRoles.RestoreOperator);

        Assert.True(page.Find("[data-testid=restore-next]").HasAttribute("disabled"));
        page.Find("[data-testid=restore-entry] input[type=checkbox]").Change(true);
        page.WaitForAssertion(() => Assert.False(page.Find("[data-testid=restore-next]").HasAttribute("disabled")));
        page.Find("[data-testid=restore-next]").Click();

        page.WaitForAssertion(() => Assert.Contains("needs Backup.Operator", page.Find("[data-testid=restore-conflict]").TextContent));
        var options = page.FindAll("[data-testid=restore-conflict] input"); // copy, skip, overwrite
        Assert.Equal(3, options.Count);
        Assert.True(options[2].HasAttribute("disabled"));
        Assert.False(options[0].HasAttribute("disabled"));
    }

    [Fact]
    public async Task An_alternate_folder_outside_the_restore_roots_is_refused_at_its_field_and_no_job_starts()
    {
        await SeedPointAsync();
        var page = OpenAtFiles(PortalRoles.RestoreOperator);
        page.Find("[data-testid=restore-entry] input[type=checkbox]").Change(true);
        page.WaitForAssertion(() => page.Find("[data-testid=restore-next]").Click());
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=restore-destination] input")));
        page.FindAll("[data-testid=restore-destination] input")[1].Click();
        page.WaitForAssertion(() => page.Find("#restore-alternate-path").Change("/etc/portal-restore"));
        page.Find("[data-testid=restore-next]").Click();

        page.WaitForAssertion(() => Assert.Contains("is outside the folders restores may write to", page.Markup));
        Assert.Empty(page.FindAll("[data-testid=restore-summary]"));
        await using var db = Database.Factory.CreateDbContext();
        Assert.Equal(0, await db.Jobs.CountAsync(j => j.Kind == Portal.Features.Jobs.JobKind.Restore));
    }
}
