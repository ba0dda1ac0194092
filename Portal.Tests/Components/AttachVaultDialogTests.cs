using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Portal.Components.Pages.Vaults;
using Portal.Engine;
using Portal.Engine.Operations;
using Portal.Features.Attach;
using Portal.Features.Identity;
using Portal.Features.Protection;
using Portal.Features.Regions;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>The Vaults page's "Attach an existing vault" dialog: a wrong passphrase is said under its field, what was found is shown, then attached.</summary>
public sealed class AttachVaultDialogTests : ProtectionComponentTest
{
    private const string Passphrase = "correct horse battery staple";

    public AttachVaultDialogTests() => Context.Services.AddPortalAttach();

    /// <summary>A vault in east's storage that the (empty) catalog does not know: its manifest names vault payroll and item share, with one point.</summary>
    private async Task<Guid> VaultInStorageAsync()
    {
        var vaultId = Guid.NewGuid();
        var itemId = Guid.NewGuid();
        var source = Path.Combine(SourceRoot, "share");
        Directory.CreateDirectory(source);
        File.WriteAllText(Path.Combine(source, "a.txt"), "a");
        using var engine = await BackupEngine.InitAsync(Context.Services.GetRequiredService<RegionStores>().Vault(vaultId, "east"), Passphrase, Engine.EngineTestKit.Options);
        await engine.BackupAsync(new BackupRequest(source) { Tags = [$"item:{itemId:N}", "scheduled", "name:share"] });
        var now = DateTime.UtcNow;
        var document = new VaultManifestDocument(1,
            new ManifestVault(vaultId, "payroll", "east", StorageRedundancy.LRS, true, 14, VaultImmutability.Disabled, now, "Ann"), [],
            [new ManifestItem(itemId, "share", BackupItemKinds.FilesAndFolders, ProtectionState.ProtectionStopped, null, null, source, [], [], null, null, null,
                null, null, null, null, false, now, "Ann", now, null)], [], null);
        await engine.WriteVaultManifestAsync(document.ToJson());
        return vaultId;
    }

    private async Task<IRenderedComponent<MudDialogProvider>> OpenAsync(string role)
    {
        SignIn(TestUsers.WithRoles("Someone", role));
        RenderProviders();
        var provider = Context.Render<MudDialogProvider>();
        var dialogs = Context.Services.GetRequiredService<IDialogService>();
        await provider.InvokeAsync(() => dialogs.ShowAsync<AttachVaultDialog>("Attach an existing vault"));
        provider.WaitForAssertion(() => Assert.NotEmpty(provider.FindAll("[data-testid=attach-vault-dialog]")));
        return provider;
    }

    /// <summary>The vault page's "Attach another machine": asks for a machine's passphrase and says in words why nothing came back.</summary>
    [Fact]
    public async Task Attach_another_machine_asks_for_a_machines_passphrase_and_says_why_nothing_was_attached()
    {
        var vaultId = await VaultInStorageAsync();
        SignIn(TestUsers.WithRoles("Ann", PortalRoles.Contributor));
        await Context.Services.GetRequiredService<AttachService>().AttachAsync(new AttachVaultRequest("east", Passphrase));
        RenderProviders();
        var provider = Context.Render<MudDialogProvider>();
        var dialogs = Context.Services.GetRequiredService<IDialogService>();
        await provider.InvokeAsync(() => dialogs.ShowAsync<Portal.Components.Pages.Machines.AttachMachineDialog>("Attach another machine",
            new DialogParameters<Portal.Components.Pages.Machines.AttachMachineDialog> { { d => d.VaultId, vaultId }, { d => d.VaultName, "payroll" } }));
        provider.WaitForAssertion(() => Assert.NotEmpty(provider.FindAll("[data-testid=attach-machine-confirm]")));
        Assert.Contains("Other machines need their own", provider.Find("[data-testid=attach-machine-dialog]").TextContent);

        provider.Find("#attach-machine-passphrase").Change("a machine passphrase");
        await ClickAsync(provider, "[data-testid=attach-machine-confirm]");

        provider.WaitForAssertion(() => Assert.Contains("storage holds no machine repository: there is no machine to attach.", provider.Markup));
        Assert.Empty(provider.FindAll("[data-testid=attach-machine-done]"));
    }

    [Fact]
    public async Task A_contributor_finds_the_vault_sees_its_items_and_points_and_attaches_it()
    {
        var vaultId = await VaultInStorageAsync();
        var provider = await OpenAsync(PortalRoles.Contributor);
        Assert.Contains("folder " + Path.Combine(Root, "regions", "east", "1"), provider.Markup); // where the region's replicas are

        provider.Find("#attach-passphrase").Change("not the passphrase at all");
        await ClickAsync(provider, "[data-testid=attach-find]");
        provider.WaitForAssertion(() => Assert.Contains($"That is not the passphrase of the vault in vaults/{vaultId:N} of region east", provider.Markup));
        Assert.Empty(provider.FindAll("[data-testid=attach-confirm]"));

        provider.Find("#attach-passphrase").Change(Passphrase);
        await ClickAsync(provider, "[data-testid=attach-find]");
        provider.WaitForAssertion(() => Assert.Contains("Found vault payroll in east (LRS): 1 item(s), 1 recovery point(s)",
            provider.Find("[data-testid=attach-found]").TextContent.Replace("\n", " ").Replace("  ", " ")));
        var row = provider.Find("[data-testid=attach-items] tbody tr").TextContent;
        Assert.Contains("share", row);
        Assert.Contains("Files and folders", row);
        await using (var db = Database.Factory.CreateDbContext())
            Assert.False(await db.Vaults.AnyAsync()); // nothing is saved before the confirmation

        await ClickAsync(provider, "[data-testid=attach-confirm]");
        provider.WaitForAssertion(() => Assert.Empty(provider.FindAll("[data-testid=attach-vault-dialog]")));
        await using (var db = Database.Factory.CreateDbContext())
        {
            Assert.Equal("payroll", (await db.Vaults.SingleAsync()).Name);
            Assert.Equal(1, await db.RecoveryPoints.CountAsync());
        }
    }

    [Fact]
    public async Task An_operator_is_told_only_a_contributor_may_attach()
    {
        await VaultInStorageAsync();
        var provider = await OpenAsync(PortalRoles.Operator);
        provider.WaitForAssertion(() => Assert.Contains("Backup.Contributor", provider.Find("[data-testid=attach-error]").TextContent));
    }
}
