using Microsoft.Playwright;

namespace Portal.E2E;

/// <summary>Debian's Chromium driven by Playwright, with a screenshot per journey step under the test output.</summary>
public sealed class Browser : IAsyncDisposable
{
    private readonly IPlaywright playwright;
    private readonly IBrowser browser;
    private readonly string screenshots;
    private int step;

    private Browser(IPlaywright playwright, IBrowser browser, IPage page, string screenshots)
    {
        this.playwright = playwright;
        this.browser = browser;
        Page = page;
        this.screenshots = screenshots;
    }

    public IPage Page { get; }

    /// <param name="bypassCsp">Lets a test inject a script into the page (axe-core): the portal's Content Security Policy allows only its own.</param>
    public static async Task<Browser> StartAsync(string journey, bool ignoreHttpsErrors = false, bool bypassCsp = false)
    {
        var executable = Environment.GetEnvironmentVariable("PORTAL_TEST_CHROMIUM") ?? "/usr/bin/chromium";
        if (!File.Exists(executable))
            throw new InvalidOperationException($"Chromium not found at {executable}: run the tests with ./portal.sh test, which installs it.");
        var output = Environment.GetEnvironmentVariable("PORTAL_TEST_OUTPUT") ?? Path.Combine(AppContext.BaseDirectory, "test-output");
        var screenshots = Path.Combine(output, "screenshots", journey);
        Directory.CreateDirectory(screenshots);

        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = executable,
            Headless = true,
            ChromiumSandbox = false,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run",
            ],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 800 }, IgnoreHTTPSErrors = ignoreHttpsErrors, BypassCSP = bypassCsp });
        page.SetDefaultTimeout(20_000);
        Assertions.SetDefaultExpectTimeout(15_000); // a loaded CI machine: assertions wait, they never sleep
        return new Browser(playwright, browser, page, screenshots);
    }

    /// <summary>
    /// Signs in through the development sign-in page as <paramref name="name"/>, a Backup.Contributor unless
    /// <paramref name="roleCheckboxes"/> names the role boxes to tick instead (e.g. "#role-restore-operator").
    /// </summary>
    public async Task SignInLocallyAsync(string baseUrl, string name, string returnPath = "/", params string[] roleCheckboxes)
    {
        await Page.GotoAsync($"{baseUrl}/account/dev-signin?ReturnUrl={Uri.EscapeDataString(returnPath)}");
        await Page.FillAsync("#dev-name", name);
        if (roleCheckboxes.Length > 0)
        {
            await Page.UncheckAsync("#role-contributor");
            foreach (var box in roleCheckboxes)
                await Page.CheckAsync(box);
        }

        await Page.ClickAsync("#dev-signin-submit");
    }

    /// <summary>Creates a vault from the Vaults page (open and interactive) and waits on the new vault's page.</summary>
    public async Task CreateVaultAsync(string baseUrl, string name)
    {
        await Page.GetByTestId("create-vault").ClickAsync();
        await Page.FillAsync("#vault-name", name);
        await Page.GetByTestId("create-vault-submit").ClickAsync();
        await Assertions.Expect(Page).ToHaveURLAsync($"{baseUrl}/vaults/{name}");
        await WaitInteractiveAsync();
    }

    /// <summary>Waits until the page's circuit is live, so clicks reach the server.</summary>
    public Task WaitInteractiveAsync() =>
        Page.Locator("#portal-root[data-interactive='true']").WaitForAsync();

    public async Task ScreenshotAsync(string name)
    {
        step++;
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(screenshots, $"{step:00}-{name}.png"), FullPage = true });
    }

    public async ValueTask DisposeAsync()
    {
        await browser.DisposeAsync();
        playwright.Dispose();
    }
}
