using Bunit;
using Microsoft.EntityFrameworkCore;
using Portal.Components.Pages.Items;
using Portal.Components.Pages.Vaults;
using Portal.Features.Identity;
using Portal.Features.Protection;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>Configure protection: the vault passphrase's rules are shown at their fields, and only protectors are offered the page.</summary>
public sealed class ConfigureProtectionTests : ProtectionComponentTest
{
    public static TheoryData<string> Roles() => [.. PortalRoles.All];

    private async Task<IRenderedComponent<ConfigureProtection>> OpenAsync()
    {
        await CreateVaultAsync("legal");
        Directory.CreateDirectory(Path.Combine(SourceRoot, "contracts"));
        SignIn(TestUsers.WithRoles("Olga", PortalRoles.Operator));
        var page = RenderPage<ConfigureProtection>(p => p.Add(c => c.Vault, "legal"));
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("#item-passphrase")));
        page.Find("#item-name").Input("Contracts");
        page.Find("#item-source").Input(Path.Combine(SourceRoot, "contracts"));
        return page;
    }

    private async Task<int> ItemRowsAsync()
    {
        await using var db = Database.Factory.CreateDbContext();
        return await db.BackupItems.CountAsync();
    }

    /// <summary>Issue 25: protecting /srv/data/docs while /srv/data was protected was accepted silently.</summary>
    [Fact]
    public async Task Protecting_a_folder_inside_a_protected_one_warns_that_its_files_would_be_backed_up_twice()
    {
        var vault = await CreateVaultAsync("archive");
        var data = await SeedItemAsync(vault, "data", ProtectionState.Protected); // protects SourceRoot/data
        Directory.CreateDirectory(Path.Combine(SourceRoot, "data", "docs"));
        SignIn(TestUsers.WithRoles("Olga", PortalRoles.Operator));
        var page = RenderPage<ConfigureProtection>(p => p.Add(c => c.Vault, "archive"));
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("#item-source")));
        Assert.Empty(page.FindAll("[data-testid=item-overlap]"));

        page.Find("#item-source").Input(Path.Combine(SourceRoot, "data", "docs"));

        page.WaitForAssertion(() => Assert.Equal($"data (vault archive) protects {data.SourcePath}, which contains {Path.Combine(SourceRoot, "data", "docs")}.",
            page.Find("[data-testid=item-overlap-row]").TextContent));
        Assert.Contains("backed up twice", page.Find("[data-testid=item-overlap]").TextContent);
    }

    [Fact]
    public async Task A_short_passphrase_is_refused_at_its_field_with_its_length_and_nothing_is_saved()
    {
        var page = await OpenAsync();

        page.Find("#item-passphrase").Input("hunter2hunter2");
        page.WaitForAssertion(() => Assert.Contains("too short (14 of at least 16 characters)", page.Find("[data-testid=passphrase-strength]").TextContent));
        page.Find("#item-confirm-passphrase").Input("hunter2hunter2");
        page.Find("[data-testid=protect-submit]").Click();

        page.WaitForAssertion(() => Assert.Equal("The passphrase has 14 characters; use at least 16 (a few words make a good one).",
            page.Find(".mud-input-helper-text.mud-input-error").TextContent.Trim()));
        Assert.Equal(0, await ItemRowsAsync());
    }

    [Fact]
    public async Task A_long_passphrase_of_one_repeated_letter_is_refused_as_guessable_and_nothing_is_saved()
    {
        var page = await OpenAsync();

        page.Find("#item-passphrase").Input("aaaaaaaaaaaaaaaaaaaa");
        page.Find("#item-confirm-passphrase").Input("aaaaaaaaaaaaaaaaaaaa");
        page.Find("[data-testid=protect-submit]").Click();

        page.WaitForAssertion(() => Assert.Equal("The passphrase repeats one character: anyone could guess it. Use a few unrelated words instead.",
            page.Find(".mud-input-helper-text.mud-input-error").TextContent.Trim()));
        Assert.Equal(0, await ItemRowsAsync());
    }

    [Fact]
    public async Task Two_different_passphrases_are_refused_at_the_second_field_and_nothing_is_saved()
    {
        var page = await OpenAsync();

        page.Find("#item-passphrase").Input("Seven-Rivers-Run-North-2026");
        page.WaitForAssertion(() => Assert.Contains("strong", page.Find("[data-testid=passphrase-strength]").TextContent));
        page.Find("#item-confirm-passphrase").Input("Seven-Rivers-Run-North-2025");
        page.WaitForAssertion(() => Assert.True(page.Find("[data-testid=download-recovery-note]").HasAttribute("disabled")));
        page.Find("[data-testid=protect-submit]").Click();

        page.WaitForAssertion(() => Assert.Equal("The two passphrases differ: type the same passphrase twice.",
            page.Find(".mud-input-helper-text.mud-input-error").TextContent.Trim()));
        Assert.Equal(0, await ItemRowsAsync());
    }

    [Fact]
    public async Task The_recovery_note_gives_the_vault_id_and_the_repository_of_each_replica_the_cli_reads()
    {
        var page = await OpenAsync();
        var download = Context.JSInterop.SetupVoid("portal.downloadText", _ => true);
        download.SetVoidResult();
        page.Find("#item-passphrase").Input("Seven-Rivers-Run-North-2026");
        page.Find("#item-confirm-passphrase").Input("Seven-Rivers-Run-North-2026");
        page.WaitForAssertion(() => Assert.False(page.Find("[data-testid=download-recovery-note]").HasAttribute("disabled")));

        page.Find("[data-testid=download-recovery-note]").Click();

        page.WaitForAssertion(() => Assert.Single(download.Invocations));
        var note = (string)Assert.Single(download.Invocations).Arguments[1]!;
        await using var db = Database.Factory.CreateDbContext();
        var vault = await db.Vaults.SingleAsync();
        Assert.Contains($"Vault ID: {vault.Id}", note); // regression (issue 25): the note lacked what the CLI needs for disaster recovery
        Assert.Contains("Region east (primary):", note);
        var repository = Path.Combine(Root, "regions");
        var paths = note.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith(repository, StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(paths);
        Assert.All(paths, p => Assert.EndsWith($"vaults/{vault.Id:N}", p));
        Assert.Contains($"--vault {vault.Id} --vault-region east", note);
        Assert.Contains("Seven-Rivers-Run-North-2026", note);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public async Task The_protect_button_is_on_the_vault_page_of_contributors_and_operators_only(string role)
    {
        await CreateVaultAsync("legal");
        SignIn(TestUsers.WithRoles("Someone", role));

        var page = RenderPage<VaultDetail>(p => p.Add(c => c.Name, "legal"));

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=vault-overview]")));
        var expected = role is PortalRoles.Contributor or PortalRoles.Operator;
        Assert.Equal(expected, page.FindAll("[data-testid=protect-folder]").Count == 1);
        Assert.Equal(expected, page.FindAll("[data-testid=vault-data-menu]").Count == 1); // check and unlock
    }
}
