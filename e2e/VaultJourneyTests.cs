using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E;

/// <summary>An operator manages vaults in Chromium against the real portal.</summary>
public sealed class VaultJourneyTests
{
    [Fact]
    public async Task An_operator_creates_a_vault_sees_it_after_a_reload_is_refused_a_duplicate_and_deletes_it()
    {
        await using var app = new PortalApp();
        await using var browser = await Browser.StartAsync("vault-journey");
        var page = browser.Page;

        // Anonymous: sent to the sign-in page; sign in as a local contributor.
        await page.GotoAsync(app.BaseUrl + "/vaults");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/account/dev-signin"));
        await page.FillAsync("#dev-name", "Erin Operator");
        await browser.ScreenshotAsync("sign-in");
        await page.ClickAsync("#dev-signin-submit");

        // Back on the vault list: the empty state says what to do first.
        await Expect(page).ToHaveURLAsync(app.BaseUrl + "/vaults");
        await browser.WaitInteractiveAsync();
        await Expect(page.GetByTestId("vaults-empty")).ToContainTextAsync("Create a vault first");
        await Expect(page.GetByTestId("user-name")).ToHaveTextAsync("Erin Operator");
        await browser.ScreenshotAsync("empty-vault-list");

        // Create a vault.
        await page.GetByTestId("create-vault").ClickAsync();
        await page.FillAsync("#vault-name", "Finance-Vault");
        await browser.ScreenshotAsync("create-dialog");
        await page.GetByTestId("create-vault-submit").ClickAsync();
        await Expect(page).ToHaveURLAsync(app.BaseUrl + "/vaults/Finance-Vault");
        await Expect(page.GetByTestId("vault-redundancy")).ToContainTextAsync("Geo-redundant (GRS): east and west");
        await browser.ScreenshotAsync("vault-created");

        // It is still there after a reload, and in the list.
        await page.ReloadAsync();
        await browser.WaitInteractiveAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Finance-Vault" })).ToBeVisibleAsync();
        await page.GotoAsync(app.BaseUrl + "/vaults");
        await browser.WaitInteractiveAsync();
        await Expect(page.GetByTestId("vault-link")).ToHaveTextAsync(["Finance-Vault"]);
        await browser.ScreenshotAsync("vault-listed-after-reload");

        // A duplicate name (other case) is refused at the field and the dialog stays open.
        await page.GetByTestId("create-vault").ClickAsync();
        await page.FillAsync("#vault-name", "finance-vault");
        await page.GetByTestId("create-vault-submit").ClickAsync();
        await Expect(page.GetByTestId("create-vault-dialog")).ToContainTextAsync("A vault named \"finance-vault\" already exists");
        await browser.ScreenshotAsync("duplicate-refused");
        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await Expect(page.GetByTestId("vault-link")).ToHaveTextAsync(["Finance-Vault"]);

        // Delete it, confirming by typing the name.
        await page.GetByTestId("vault-link").ClickAsync();
        await Expect(page).ToHaveURLAsync(app.BaseUrl + "/vaults/Finance-Vault");
        await page.GetByTestId("vault-delete").ClickAsync();
        await Expect(page.GetByTestId("delete-vault-submit")).ToBeDisabledAsync();
        await page.FillAsync("#delete-vault-confirm", "Finance-Vault");
        await browser.ScreenshotAsync("delete-confirm");
        await page.GetByTestId("delete-vault-submit").ClickAsync();
        await Expect(page).ToHaveURLAsync(app.BaseUrl + "/vaults");
        await Expect(page.GetByTestId("vaults-empty")).ToBeVisibleAsync();
        await browser.ScreenshotAsync("deleted");
    }

    [Fact]
    public async Task Healthz_reports_that_the_database_answers()
    {
        await using var app = new PortalApp();
        using var client = new HttpClient();

        var body = await client.GetStringAsync(app.BaseUrl + "/healthz");

        Assert.Contains("\"database\":\"Healthy\"", body);
    }
}
