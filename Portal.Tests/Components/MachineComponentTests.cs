using System.Text.Json;
using Bunit;
using Microsoft.EntityFrameworkCore;
using MudBlazor;
using Portal.Components.Layout;
using Portal.Components.Pages.Machines;
using Portal.Components.Pages.Vaults;
using Portal.Engine.Agents;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;
using Portal.Tests.Machines;

namespace Portal.Tests.Components;

/// <summary>
/// The Machines page and the vault page's Machines card: status, items and last backup as a user reads them; Add a
/// machine downloads a credentials file through the browser; Revoke asks first; readers get no buttons.
/// </summary>
public sealed class MachineComponentTests : PortalComponentTest
{
    public static TheoryData<string> Roles() => [.. PortalRoles.All];

    private static bool Changes(string role) => role is PortalRoles.Contributor or PortalRoles.Operator;

    private async Task<Guid> CreateVaultAsync(string name = "payroll") =>
        (await TestPortal.For(Database, TestUsers.WithRoles("Ann", PortalRoles.Contributor)).Vaults().CreateAsync(new CreateVaultRequest(name, "east"))).Id;

    private static IReadOnlyList<string> Cells(IRenderedComponent<MachineList> page, string testId) =>
        [.. page.FindAll($"[data-testid={testId}]").Select(e => e.TextContent.Trim())];

    [Fact]
    public async Task The_machines_page_shows_online_offline_and_revoked_machines_with_their_items_and_last_backup()
    {
        var vault = await CreateVaultAsync();
        var now = DateTime.UtcNow;
        var web = await Database.AddMachineAsync(vault, "web01", now.AddDays(-3), m => (m.ConnectedTo, m.LastContactAt) = ("portal-1", now));
        await Database.AddMachineAsync(vault, "db01", now.AddDays(-3), m => (m.LastContactAt, m.DisconnectedAt) = (now.AddHours(-5), now.AddHours(-5)));
        await Database.AddMachineAsync(vault, "old01", now.AddDays(-3), m => (m.RevokedAt, m.RevokedBy) = (now.AddDays(-1), "Olga"));
        await Database.AddItemAsync(vault, web.Id, "www", JobStatus.Completed, now.AddHours(-2));
        await Database.AddItemAsync(vault, web.Id, "etc", JobStatus.Failed, now.AddHours(-1));
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));

        var page = RenderPage<MachineList>();

        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("[data-testid=machine-status]").Count));
        Assert.Equal(["db01", "web01", "old01"], Cells(page, "machine-name").Select(n => n.Split(' ', 2)[0].Trim()));
        var status = Cells(page, "machine-status");
        Assert.StartsWith("Offline", status[0]);
        Assert.Contains("Offline since ", status[0]);
        Assert.Contains("(5 hours)", status[0]);
        Assert.Equal("Online", status[1]);
        Assert.StartsWith("Revoked", status[2]);
        Assert.Contains("by Olga", status[2]);
        Assert.Equal(["None yet", "2: etc, www", "None yet"], Cells(page, "machine-items"));
        Assert.StartsWith("Failed, ", Cells(page, "machine-last-backup")[1]);
        Assert.Equal("Not backed up yet", Cells(page, "machine-last-backup")[0]);
        Assert.StartsWith("less than a minute ago", Cells(page, "machine-last-contact")[1]);
        Assert.Contains("mud-text-disabled", page.FindAll("tr").Single(r => r.TextContent.Contains("old01")).ClassName);
    }

    [Fact]
    public void With_no_machine_the_page_says_how_to_add_one()
    {
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));

        var page = RenderPage<MachineList>();

        page.WaitForAssertion(() => Assert.Contains("Open a vault and choose “Add a machine”", page.Find("[data-testid=machines-empty]").TextContent));
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public async Task Only_contributors_and_operators_get_add_a_machine_and_revoke_on_the_vault_page(string role)
    {
        var vault = await CreateVaultAsync();
        await Database.AddMachineAsync(vault, "web01", DateTime.UtcNow.AddDays(-1));
        SignIn(TestUsers.WithRoles("Someone", role));

        var page = RenderPage<VaultDetail>(p => p.Add(c => c.Name, "payroll"));

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=machine-status]")));
        Assert.Contains("web01", page.Find("[data-testid=vault-machines]").TextContent);
        Assert.Equal(Changes(role), page.FindAll("[data-testid=add-machine]").Count == 1);
        Assert.Empty(page.FindAll("[data-testid=attach-machine]")); // offered only while storage holds machines the catalog does not know (AttachVaultDialogTests)
        Assert.Equal(Changes(role), page.FindAll("[data-testid=machine-revoke]").Count == 1);
        Assert.Equal(Changes(role), page.FindAll("[data-testid=machine-upload-limits-edit]").Count == 1);
    }

    [Fact]
    public void The_navigation_has_machines_for_every_role()
    {
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.RestoreOperator));

        var nav = RenderPage<NavMenu>();

        Assert.Equal("Machines", nav.Find("a[href='machines']").TextContent.Trim());
    }

    [Fact]
    public async Task Add_a_machine_downloads_the_credentials_file_in_the_browser_and_lists_it_as_waiting()
    {
        await CreateVaultAsync();
        SignIn(TestUsers.WithRoles("Olga", PortalRoles.Operator));
        var download = Context.JSInterop.SetupVoid("portal.downloadText", _ => true);
        download.SetVoidResult();
        var page = RenderPage<VaultDetail>(p => p.Add(c => c.Name, "payroll"));
        var dialogs = Context.Render<MudDialogProvider>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=add-machine]")));
        Assert.Empty(page.FindAll("[data-testid=machine-credential]"));

        await ClickAsync(page, "[data-testid=add-machine]");
        dialogs.WaitForAssertion(() => Assert.NotEmpty(dialogs.FindAll("[data-testid=add-machine-download]")));
        Assert.Contains("sudo portal-agent register --credentials", dialogs.Find("[data-testid=add-machine-step-3]").TextContent);
        Assert.Contains("Portal.Agent/README.md", dialogs.Find("[data-testid=add-machine-step-2]").TextContent);
        await ClickAsync(dialogs, "[data-testid=add-machine-download]");

        dialogs.WaitForAssertion(() => Assert.NotEmpty(dialogs.FindAll("[data-testid=add-machine-downloaded]")));
        var call = Assert.Single(download.Invocations);
        var fileName = (string)call.Arguments[0]!;
        Assert.Matches(@"^payroll-\d{4}-\d{2}-\d{2}\.portalcredentials$", fileName);
        var file = JsonSerializer.Deserialize<MachineCredentialsFile>((string)call.Arguments[1]!)!;
        Assert.Equal(("payroll", "http://localhost"), (file.VaultName, file.Portal));
        var downloaded = dialogs.Find("[data-testid=add-machine-downloaded]").TextContent;
        Assert.Contains($"Downloaded {fileName}. It is single use, expires on {file.ExpiresAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC", downloaded);
        Assert.Contains("revocable below", downloaded);
        Assert.Contains($"--credentials {fileName}", dialogs.Find("[data-testid=add-machine-step-3]").TextContent);

        await ClickAsync(dialogs, "[data-testid=add-machine-close]");
        page.WaitForAssertion(() => Assert.StartsWith("Waiting for a machine until", page.Find("[data-testid=machine-credential-state]").TextContent));
        Assert.Single(page.FindAll("[data-testid=machine-credential-revoke]"));
    }

    [Fact]
    public async Task Revoke_says_what_happens_and_revokes_only_once_confirmed()
    {
        var vault = await CreateVaultAsync();
        var machine = await Database.AddMachineAsync(vault, "web01", DateTime.UtcNow.AddDays(-1), m => (m.ConnectedTo, m.LastContactAt) = ("portal-1", DateTime.UtcNow));
        SignIn(TestUsers.WithRoles("Ann", PortalRoles.Contributor));
        var page = RenderPage<MachineList>();
        var dialogs = Context.Render<MudDialogProvider>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=machine-revoke]")));

        await ClickAsync(page, "[data-testid=machine-revoke]");
        dialogs.WaitForAssertion(() => Assert.NotEmpty(dialogs.FindAll("[data-testid=revoke-machine-consequences]")));
        Assert.Equal("Its connection ends within seconds and it can no longer reach storage. Its recovery points stay in the vault.",
            dialogs.Find("[data-testid=revoke-machine-consequences]").TextContent.Trim());
        await ClickAsync(dialogs, "[data-testid=revoke-machine-cancel]");
        dialogs.WaitForAssertion(() => Assert.Empty(dialogs.FindAll("[data-testid=revoke-machine-dialog]")));
        await using (var db = await Database.Factory.CreateDbContextAsync())
            Assert.Null((await db.Machines.SingleAsync(m => m.Id == machine.Id)).RevokedAt);
        Assert.Equal("Online", page.Find("[data-testid=machine-status]").TextContent.Trim());

        await ClickAsync(page, "[data-testid=machine-revoke]");
        dialogs.WaitForAssertion(() => Assert.NotEmpty(dialogs.FindAll("[data-testid=revoke-machine-submit]")));
        await ClickAsync(dialogs, "[data-testid=revoke-machine-submit]");

        page.WaitForAssertion(() => Assert.StartsWith("Revoked", page.Find("[data-testid=machine-status]").TextContent.Trim()));
        Assert.Empty(page.FindAll("[data-testid=machine-revoke]"));
        await using (var db = await Database.Factory.CreateDbContextAsync())
            Assert.Equal("Ann", (await db.Machines.SingleAsync(m => m.Id == machine.Id)).RevokedBy);
    }

    [Fact]
    public async Task Upload_limits_refuse_a_bad_value_in_words_and_show_the_saved_ones()
    {
        var vault = await CreateVaultAsync();
        await Database.AddMachineAsync(vault, "web01", DateTime.UtcNow.AddDays(-1));
        SignIn(TestUsers.WithRoles("Olga", PortalRoles.Operator));
        var page = RenderPage<MachineList>();
        var dialogs = Context.Render<MudDialogProvider>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=machine-upload-limits-edit]")));
        Assert.Empty(page.FindAll("[data-testid=machine-upload-limits]"));

        await ClickAsync(page, "[data-testid=machine-upload-limits-edit]");
        dialogs.WaitForAssertion(() => Assert.NotEmpty(dialogs.FindAll("#upload-limit-work")));
        await dialogs.InvokeAsync(() => dialogs.Find("#upload-limit-work").Input("0"));
        await ClickAsync(dialogs, "[data-testid=upload-limits-save]");
        dialogs.WaitForAssertion(() => Assert.Contains("The upload limit during work hours must be a positive number of KiB/s", dialogs.Markup));

        await dialogs.InvokeAsync(() => dialogs.Find("#upload-limit-work").Input("2048"));
        await ClickAsync(dialogs, "[data-testid=upload-limits-save]");

        page.WaitForAssertion(() => Assert.Equal("Upload limit: 2048 KiB/s in work hours, none outside",
            page.Find("[data-testid=machine-upload-limits]").TextContent.Trim()));
    }
}
