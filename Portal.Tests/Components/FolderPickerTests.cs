using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Portal.Components.Pages.Items;
using Portal.Features.Common;
using Portal.Features.Identity;
using Portal.Features.Protection;
using Portal.Tests.Infrastructure;
using Portal.Tests.Machines;

namespace Portal.Tests.Components;

/// <summary>
/// Issue 25: a folder picker for an item's source folder on the portal host, browsing only the allowed roots
/// (Protection:SourceRoots), in the protect dialog (and the edit dialog, which uses the same picker). Issue 21: the same
/// picker on a machine (its agent lists the folders: see AgentJourneyTests and the e2e machine journey); offline, it says so.
/// </summary>
public sealed class FolderPickerTests : ProtectionComponentTest
{
    [Fact]
    public async Task Browsing_into_a_folder_and_choosing_it_fills_the_source_path()
    {
        await CreateVaultAsync("legal");
        Directory.CreateDirectory(Path.Combine(SourceRoot, "contracts", "2026"));
        Directory.CreateDirectory(Path.Combine(SourceRoot, "archive"));
        SignIn(TestUsers.WithRoles("Olga", PortalRoles.Operator));
        var page = RenderPage<ConfigureProtection>(p => p.Add(c => c.Vault, "legal"));
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=folder-picker-open]")));

        await ClickAsync(page, "[data-testid=folder-picker-open]");           // nothing typed: the roots
        page.WaitForAssertion(() => Assert.Equal([SourceRoot], page.FindAll("[data-testid=folder-picker-entry]").Select(e => e.GetAttribute("data-path"))));
        await ClickAsync(page, "[data-testid=folder-picker-entry]");
        page.WaitForAssertion(() => Assert.Equal(["archive", "contracts"], page.FindAll("[data-testid=folder-picker-entry]").Select(e => e.TextContent.Trim())));
        await ClickAsync(page, $"[data-testid=folder-picker-entry][data-path='{Path.Combine(SourceRoot, "contracts")}']");
        page.WaitForAssertion(() => Assert.Equal(Path.Combine(SourceRoot, "contracts"), page.Find("[data-testid=folder-picker-path]").TextContent));
        await ClickAsync(page, "[data-testid=folder-picker-choose]");

        page.WaitForAssertion(() => Assert.Equal(Path.Combine(SourceRoot, "contracts"), page.Find("#item-source").GetAttribute("value")));
        Assert.Empty(page.FindAll("[data-testid=folder-picker]"));
    }

    [Fact]
    public async Task On_an_offline_machine_the_picker_says_so_and_the_folder_is_typed()
    {
        var vault = await CreateVaultAsync("estate");
        var machine = await Database.AddMachineAsync(vault.Id, "web-01", DateTime.UtcNow.AddDays(-1)); // registered, never connected
        SignIn(TestUsers.WithRoles("Olga", PortalRoles.Operator));
        var navigation = Context.Services.GetRequiredService<NavigationManager>();
        navigation.NavigateTo(navigation.GetUriWithQueryParameter("machine", machine.Id.ToString()));
        var page = RenderPage<ConfigureProtection>(p => p.Add(c => c.Vault, "estate"));

        page.WaitForAssertion(() => Assert.Equal("web-01 is offline: its folders cannot be browsed. Type the folder's path.",
            page.Find("[data-testid=folder-picker-offline]").TextContent));
        Assert.Empty(page.FindAll("[data-testid=folder-picker-open]"));
        Assert.Contains("Folder on web-01", page.Markup); // the path is typed there
    }

    [Fact]
    public async Task The_picker_never_lists_outside_the_roots_nor_follows_a_link_out_and_readers_may_not_browse()
    {
        var outside = Directory.CreateTempSubdirectory("portal-outside-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(SourceRoot, "share"));
            Directory.CreateSymbolicLink(Path.Combine(SourceRoot, "escape"), outside);
            SourceFolders FoldersFor(string role) =>
                new(new FixedCurrentUser(TestUsers.WithRoles("Olga", role)), Options.Create(new ProtectionOptions { SourceRoots = [SourceRoot] }));
            var operatorFolders = FoldersFor(PortalRoles.Operator);

            var listing = await operatorFolders.ListAsync(SourceRoot);
            Assert.Equal([Path.Combine(SourceRoot, "share")], listing.Folders); // the link out is not offered
            Assert.Null(listing.Parent);                                            // up from a root shows the roots
            var refused = await Assert.ThrowsAsync<PortalValidationException>(() => operatorFolders.ListAsync(outside));
            Assert.Contains("outside the folders this portal may back up", refused.Message);
            await Assert.ThrowsAsync<PortalValidationException>(() => operatorFolders.ListAsync(Path.Combine(SourceRoot, "escape")));

            await Assert.ThrowsAsync<PortalAccessDeniedException>(() => FoldersFor(PortalRoles.Reader).ListAsync(SourceRoot));
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }
}
