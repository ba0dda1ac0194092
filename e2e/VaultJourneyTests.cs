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

        // Ask for its deletion, confirming by typing the name: it waits for a second contributor.
        await page.GetByTestId("vault-link").ClickAsync();
        await Expect(page).ToHaveURLAsync(app.BaseUrl + "/vaults/Finance-Vault");
        await page.GetByTestId("vault-delete").ClickAsync();
        await Expect(page.GetByTestId("delete-vault-submit")).ToBeDisabledAsync();
        await page.FillAsync("#delete-vault-confirm", "Finance-Vault");
        await browser.ScreenshotAsync("delete-confirm");
        await page.GetByTestId("delete-vault-submit").ClickAsync();
        await Expect(page.GetByTestId("vault-pending-approval")).ToContainTextAsync("Delete vault Finance-Vault");
        await browser.ScreenshotAsync("deletion-requested");

        // The requester cannot approve their own request.
        await page.GotoAsync(app.BaseUrl + "/approvals");
        await browser.WaitInteractiveAsync();
        await Expect(page.GetByTestId("approval-cancel")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("approval-approve")).ToHaveCountAsync(0);

        // A second contributor approves; the vault is gone and the audit log names both.
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/account/dev-signin"));
        await browser.SignInLocallyAsync(app.BaseUrl, "Frank Approver", "/approvals");
        await Expect(page).ToHaveURLAsync(app.BaseUrl + "/approvals");
        await browser.WaitInteractiveAsync();
        await page.GetByTestId("approval-approve").ClickAsync();
        // Approving asks first, with what the vault holds (issue 25: it was one click).
        await Expect(page.GetByTestId("holdings-items")).ToHaveTextAsync("none");
        await Expect(page.GetByTestId("holdings-points")).ToHaveTextAsync("0");
        await browser.ScreenshotAsync("deletion-confirm");
        await page.GetByTestId("approve-confirm").ClickAsync();
        await Expect(page.GetByTestId("approval-status")).ToHaveTextAsync("Approved");
        await browser.ScreenshotAsync("deletion-approved");
        await page.GotoAsync(app.BaseUrl + "/vaults");
        await browser.WaitInteractiveAsync();
        await Expect(page.GetByTestId("vaults-empty")).ToBeVisibleAsync();
        await page.GotoAsync(app.BaseUrl + "/audit");
        await browser.WaitInteractiveAsync();
        await Expect(page.GetByTestId("audit-detail").First).ToContainTextAsync("Requested by Erin Operator, approved by Frank Approver");
        await browser.ScreenshotAsync("audit-log");
    }

    [Fact]
    public async Task Help_desk_staff_see_vaults_but_are_offered_no_change_and_cannot_open_the_audit_log()
    {
        await using var app = new PortalApp();
        await using var browser = await Browser.StartAsync("restore-operator-limits");
        var page = browser.Page;
        await browser.SignInLocallyAsync(app.BaseUrl, "Contributor Carla");
        await browser.WaitInteractiveAsync();
        await page.GotoAsync(app.BaseUrl + "/vaults");
        await browser.WaitInteractiveAsync();
        await browser.CreateVaultAsync(app.BaseUrl, "payroll");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();

        await browser.SignInLocallyAsync(app.BaseUrl, "Helpdesk Hana", "/vaults/payroll", "#role-restore-operator");
        await Expect(page).ToHaveURLAsync(app.BaseUrl + "/vaults/payroll");
        await browser.WaitInteractiveAsync();
        await Expect(page.GetByTestId("vault-overview")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("vault-delete")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("vault-properties")).ToHaveCountAsync(0);
        await browser.ScreenshotAsync("vault-without-actions");

        await page.GotoAsync(app.BaseUrl + "/audit");
        await Expect(page.GetByTestId("access-denied")).ToBeVisibleAsync();
        await browser.ScreenshotAsync("audit-refused");
var export = await page.APIRequest.GetAsync(app.BaseUrl + "/audit/export.csv", new() { MaxRedirects = 0 });
        Assert.Equal(302, export.Status);
        Assert.Contains("/account/access-denied", export.Headers["location"]);
    }

    [Fact]
    public async Task Pages_carry_the_security_headers()
    {
        await using var app = new PortalApp();
        using var client = new HttpClient();

        using var response = await client.GetAsync(app.BaseUrl + "/account/dev-signin");

        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        var frame = response.Headers.GetValues("X-Frame-Options").ToList();
        Assert.Equal(["DENY"], frame);
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("default-src 'self'", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.DoesNotContain("unsafe-eval", csp);
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
