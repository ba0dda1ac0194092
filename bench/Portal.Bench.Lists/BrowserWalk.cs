using System.Diagnostics;
using Microsoft.Playwright;

/// <summary>
/// Issue 25's page timings as a person sees them, in one walk through Debian's Chromium: a <b>full page load</b> (the
/// address typed: from the request until the circuit is interactive and the page shows its data, no loading bar left)
/// and an <b>in-app navigation</b> (a click on the menu link from the previous page of the walk until the same).
/// </summary>
internal static class BrowserWalk
{
    /// <summary>The walked pages: menu label, address, and what the page shows once its data is there.</summary>
    private static readonly (string Label, string Path, string Ready)[] Pages =
    [
        ("Backup center", "/", "[data-testid=vault-count]"),
        ("Vaults", "/vaults", "[data-testid=vault-link]"),
        ("Backup items", "/items", "[data-testid=item-link]"),
        ("Backup jobs", "/jobs", "[data-testid=job-row-status]"),
        ("Restore files", "/restore", "#restore-item-search"),
        ("Reports", "/reports", "[data-testid=report-jobs]"),
    ];

    public static async Task RunAsync(string baseUrl, int runs = 10)
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Environment.GetEnvironmentVariable("PORTAL_TEST_CHROMIUM") ?? "/usr/bin/chromium",
            Headless = true,
            ChromiumSandbox = false,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 800 } });
        page.SetDefaultTimeout(120_000);
        await page.GotoAsync(baseUrl + "/account/dev-signin?ReturnUrl=%2F");
        await page.FillAsync("#dev-name", "Bench Walker");
        await page.ClickAsync("#dev-signin-submit");
        await ReadyAsync(page, Pages[0].Ready);

        var full = Pages.ToDictionary(p => p.Path, _ => new List<double>());
        var inApp = Pages.ToDictionary(p => p.Path, _ => new List<double>());
        for (var run = -2; run < runs; run++) // two warm-up rounds
        {
            foreach (var (_, path, ready) in Pages)
            {
                var watch = Stopwatch.StartNew();
                await page.GotoAsync(baseUrl + path);
                await ReadyAsync(page, ready);
                if (run >= 0) full[path].Add(watch.Elapsed.TotalMilliseconds);
            }

            await page.GotoAsync(baseUrl + Pages[^1].Path); // the walk's clicks start from the last page
            await ReadyAsync(page, Pages[^1].Ready);
            foreach (var (label, path, ready) in Pages)
            {
                var link = page.Locator("nav a.mud-nav-link", new PageLocatorOptions { HasText = label }).First;
                var watch = Stopwatch.StartNew();
                await link.ClickAsync();
                await page.WaitForURLAsync(baseUrl + path);
                await ReadyAsync(page, ready);
                if (run >= 0) inApp[path].Add(watch.Elapsed.TotalMilliseconds);
            }
        }

        Console.WriteLine($"in Chromium, {runs} walks after 2 warm-ups:                     full page load (median, p95)   in-app navigation (median, p95)");
        foreach (var (label, path, _) in Pages)
            Console.WriteLine($"  {label + " " + path,-50} {Median(full[path]),8:F0} ms {P95(full[path]),6:F0} ms {Median(inApp[path]),14:F0} ms {P95(inApp[path]),6:F0} ms");
    }

    /// <summary>The circuit is interactive, the page's data is shown, and no loading bar is left.</summary>
    private static async Task ReadyAsync(IPage page, string ready)
    {
        await page.Locator("#portal-root[data-interactive='true']").WaitForAsync();
        await page.Locator(ready).First.WaitForAsync();
        await page.WaitForFunctionAsync("() => !document.querySelector('.mud-progress-indeterminate')", null,
            new PageWaitForFunctionOptions { PollingInterval = 10 });
    }

    private static double Median(List<double> samples) => samples.Order().ElementAt(samples.Count / 2);

    private static double P95(List<double> samples) => samples.Order().ElementAt(Math.Min(samples.Count - 1, (int)Math.Ceiling(samples.Count * 0.95) - 1));
}
