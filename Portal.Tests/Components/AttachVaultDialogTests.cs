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

    /// <summary>
    /// A machine repository of vault <paramref name="vaultId"/> in east's storage that the catalog does not know: machine
    /// web-01 (its passphrase <paramref name="passphrase"/>), its share of the vault manifest naming item site, and two points.
    /// Returns when the newer point was taken.
    /// </summary>
    private async Task<DateTime> MachineInStorageAsync(Guid vaultId, string passphrase)
    {
        var (machineId, itemId) = (Guid.NewGuid(), Guid.NewGuid());
        var source = Path.Combine(SourceRoot, "site");
        Directory.CreateDirectory(source);
        File.WriteAllText(Path.Combine(source, "index.html"), "version 1");
        using var engine = await BackupEngine.InitAsync(Context.Services.GetRequiredService<RegionStores>().Machine(vaultId, "east", machineId), passphrase,
            Engine.EngineTestKit.Options);
        string[] tags = [$"item:{itemId:N}", "scheduled", "name:site"];
        await engine.BackupAsync(new BackupRequest(source) { Tags = tags });
        File.WriteAllText(Path.Combine(source, "index.html"), "version 2");
        var newest = await engine.BackupAsync(new BackupRequest(source) { Tags = tags });
        var now = DateTime.UtcNow;
        var document = new VaultManifestDocument(1,
            new ManifestVault(vaultId, "payroll", "east", StorageRedundancy.LRS, true, 14, VaultImmutability.Disabled, now, "Ann"), [],
            [new ManifestItem(itemId, "site", BackupItemKinds.FilesAndFolders, ProtectionState.ProtectionStopped, null, machineId, source, [], [], null, null, null,
                null, null, null, null, false, now, "Ann", now, null)],
            [new ManifestMachine(machineId, "web-01", "linux", "1.0", [1, 2, 3], [4, 5, 6], engine.RepositoryId, null, Guid.NewGuid(), "Ann", now, null, null)], null);
        await engine.WriteVaultManifestAsync(document.ToJson());
        return (await engine.ListSnapshotsAsync()).Single(p => p.Id == newest.SnapshotId).Time.UtcDateTime;
    }

    /// <summary>
    /// The vault page offers "Attach another machine" only while the vault's storage holds a machine repository the catalog
    /// does not know; the dialog checks the machine's passphrase and shows what comes back (machine, items, points, newest
    /// point) before anything is saved, then attaches it, and the offer goes.
    /// </summary>
    [Fact]
    public async Task Attach_another_machine_is_offered_only_for_machines_in_storage_and_previews_what_comes_back_before_attaching()
    {
        const string machinePassphrase = "the passphrase web-01 registered with";
        var vaultId = await VaultInStorageAsync();
        SignIn(TestUsers.WithRoles("Ann", PortalRoles.Contributor));
        await Context.Services.GetRequiredService<AttachService>().AttachAsync(new AttachVaultRequest("east", Passphrase));

        RenderProviders();
        var dialogs = Context.Render<MudDialogProvider>();
        IRenderedComponent<VaultDetail> Page() =>
            Context.Render<Microsoft.AspNetCore.Components.Authorization.CascadingAuthenticationState>(p => p.AddChildContent<VaultDetail>(c => c.Add(x => x.Name, "payroll")))
                .FindComponent<VaultDetail>();
        var page = Page();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=add-machine]")));
        Assert.Empty(page.FindAll("[data-testid=attach-machine]")); // no machine repository in its storage: nothing to attach

        var newest = await MachineInStorageAsync(vaultId, machinePassphrase);
        page = Page();
        page.WaitForAssertion(() => Assert.Equal("Attach another machine (1)", page.Find("[data-testid=attach-machine]").TextContent.Trim()));
        await ClickAsync(page, "[data-testid=attach-machine]");
        dialogs.WaitForAssertion(() => Assert.NotEmpty(dialogs.FindAll("[data-testid=attach-machine-find]")));
        Assert.Contains("Other machines need their own", dialogs.Find("[data-testid=attach-machine-dialog]").TextContent);

        dialogs.Find("#attach-machine-passphrase").Change("not this machine's passphrase");
        await ClickAsync(dialogs, "[data-testid=attach-machine-find]");
        dialogs.WaitForAssertion(() => Assert.Contains("That passphrase opens none of the 1 machine repository of vault payroll not yet in the catalog", dialogs.Markup));
        Assert.Empty(dialogs.FindAll("[data-testid=attach-machine-confirm]"));

        dialogs.Find("#attach-machine-passphrase").Change(machinePassphrase);
        await ClickAsync(dialogs, "[data-testid=attach-machine-find]");
        dialogs.WaitForAssertion(() => Assert.NotEmpty(dialogs.FindAll("[data-testid=attach-machine-found]")));
        Assert.Equal($"Found machine web-01: 1 item(s), 2 recovery point(s), the newest taken {newest:yyyy-MM-dd HH:mm} UTC. Nothing is saved until you attach it.",
            string.Join(" ", dialogs.Find("[data-testid=attach-machine-found]").TextContent.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries)));
        var row = dialogs.Find("[data-testid=attach-machine-items] tbody tr").TextContent;
        Assert.Contains("site", row);
        Assert.Contains("web-01: " + Path.Combine(SourceRoot, "site"), row);
        Assert.Contains($"{newest:yyyy-MM-dd HH:mm} UTC", row);
        await using (var db = Database.Factory.CreateDbContext())
        {
            Assert.False(await db.Machines.AnyAsync()); // nothing is saved before the confirmation
            Assert.False(await db.VaultEscrowKeys.AnyAsync());
        }

        await ClickAsync(dialogs, "[data-testid=attach-machine-confirm]");
        dialogs.WaitForAssertion(() => Assert.Contains("Attached: web-01 with 1 item(s) and 2 recovery point(s).", dialogs.Find("[data-testid=attach-machine-done]").TextContent));
        await using (var db = Database.Factory.CreateDbContext())
        {
            Assert.Equal("web-01", (await db.Machines.SingleAsync()).Name);
            Assert.Equal(3, await db.RecoveryPoints.CountAsync()); // the vault's one and the machine's two
        }

        await ClickAsync(dialogs, "[data-testid=attach-machine-close]");
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-testid=attach-machine]"))); // nothing is left to attach
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
