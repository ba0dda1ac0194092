using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Portal.Components.Pages.Vaults;
using Portal.Engine.Repository;
using Portal.Features.Identity;
using Portal.Features.Protection;
using Portal.Features.Regions;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>The vault page's Repository locks dialog: who holds each lock and whether it is stale; a contributor breaks it there.</summary>
public sealed class VaultLocksDialogTests : ProtectionComponentTest
{
    private const string Passphrase = "correct horse battery staple";

    /// <summary>A vault with a repository and a prune's lock that srv-db-02 stopped refreshing two hours ago.</summary>
    private async Task<VaultDetails> VaultWithStaleLockAsync()
    {
        var details = await CreateVaultAsync("payroll");
        await using (var db = Database.Factory.CreateDbContext())
            await Context.Services.GetRequiredService<VaultKeys>().UnlockAsync(await db.Vaults.SingleAsync(), Passphrase, "Setup");
        var store = Context.Services.GetRequiredService<RegionStores>().Vault(details.Id, "east");
        using var repo = await Repo.OpenAsync(store, Passphrase, TimeProvider.System, "test", default);
        await repo.SaveJsonAsync(Repo.LocksPrefix, new LockFile
        {
            Exclusive = true, Operation = "prune", Host = "srv-db-02", Pid = 77, Time = DateTimeOffset.UtcNow.AddHours(-2),
        }, RepoJson.Default.LockFile, default);
        return details;
    }

    private async Task<IRenderedComponent<MudDialogProvider>> OpenAsync(VaultDetails vault, string role)
    {
        SignIn(TestUsers.WithRoles("Someone", role));
        RenderProviders();
        var provider = Context.Render<MudDialogProvider>();
        var dialogs = Context.Services.GetRequiredService<IDialogService>();
        await provider.InvokeAsync(() => dialogs.ShowAsync<VaultLocksDialog>("Repository locks",
            new DialogParameters<VaultLocksDialog> { { d => d.Vault, vault } }));
        provider.WaitForAssertion(() => Assert.NotEmpty(provider.FindAll("[data-testid=vault-lock]")));
        return provider;
    }

    [Fact]
    public async Task A_contributor_sees_who_holds_a_stale_lock_and_breaks_it_without_force()
    {
        var provider = await OpenAsync(await VaultWithStaleLockAsync(), PortalRoles.Contributor);

        var shown = provider.Find("[data-testid=vault-lock]").TextContent;
        Assert.StartsWith("prune on srv-db-02 (pid 77) since ", shown);
        Assert.Contains(", stale: ", shown);
        Assert.Equal("Break stale locks", provider.Find("[data-testid=vault-lock-break]").TextContent.Trim());
        provider.Find("[data-testid=vault-lock-break]").Click();

        provider.WaitForAssertion(() => Assert.Equal("Removed 1 lock(s).", provider.Find("[data-testid=vault-lock-outcome]").TextContent.Trim()));
        Assert.Empty(provider.FindAll("[data-testid=vault-lock]"));
        Assert.Contains("No locks.", provider.Markup);
    }

    [Fact]
    public async Task An_operator_sees_the_locks_but_no_way_to_break_them()
    {
        var provider = await OpenAsync(await VaultWithStaleLockAsync(), PortalRoles.Operator);

        Assert.Empty(provider.FindAll("[data-testid=vault-lock-break]"));
        Assert.Empty(provider.FindAll("[data-testid=vault-lock-force]"));
    }
}
