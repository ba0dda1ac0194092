using static Microsoft.Playwright.Assertions;

namespace Portal.E2E;

/// <summary>An operator creates a backup policy in Chromium; a broken rule is shown at its field.</summary>
public sealed class PolicyJourneyTests
{
    [Fact]
    public async Task An_operator_creates_a_policy_after_fixing_a_retention_the_rules_refuse()
    {
        await using var app = new PortalApp();
        await using var browser = await Browser.StartAsync("policy-journey");
        var page = browser.Page;
        await browser.SignInLocallyAsync(app.BaseUrl, "Paula Policy", "/vaults");
        await browser.WaitInteractiveAsync();
        await browser.CreateVaultAsync(app.BaseUrl, "records");
        await Expect(page.GetByTestId("policy-link")).ToHaveTextAsync(["DefaultPolicy"]);

        await page.GetByTestId("policy-create").ClickAsync();
        await Expect(page).ToHaveURLAsync(app.BaseUrl + "/vaults/records/new-policy");
        await browser.WaitInteractiveAsync();
        await page.FillAsync("#policy-name", "Nightly");
        await page.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Add a time" }).ClickAsync();
        await page.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Add a time" }).ClickAsync();
        await page.FillAsync("#policy-daily-days", "9999");
        await page.Locator("#policy-daily-days").BlurAsync();
        await page.GetByTestId("policy-save").ClickAsync();
        await Expect(page.GetByTestId("policy-summary")).ToContainTextAsync("the limit is 9,999");
        await browser.ScreenshotAsync("retention-refused");

        await page.FillAsync("#policy-daily-days", "3000");
        await page.Locator("#policy-daily-days").BlurAsync();
        await Expect(page.GetByTestId("policy-summary")).ToContainTextAsync("Keeps up to 9,00");
        await page.GetByTestId("policy-save").ClickAsync();

        await Expect(page).ToHaveURLAsync(app.BaseUrl + "/vaults/records");
        await Expect(page.GetByTestId("policy-link")).ToHaveTextAsync(["DefaultPolicy", "Nightly"]);
        await Expect(page.GetByTestId("vault-policies")).ToContainTextAsync("daily at 22:30, 04:30, 10:30 UTC; daily points 3000 days");
        await browser.ScreenshotAsync("policy-created");
    }
}
