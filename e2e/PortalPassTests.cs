using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Portal.Data;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E;

/// <summary>
/// Issue 25's pass over the portal for people: an accessibility check (axe-core, injected into the page) on the main
/// pages in the light theme, a dark theme that survives a full page load, then every page at 390 px wide in the dark
/// theme without horizontal scrolling (with screenshots) and axe again, the page actions behind one button on a phone,
/// and the restore wizard's stepper as one tab stop.
/// </summary>
public sealed class PortalPassTests
{
    private static readonly string AxeScript = Path.Combine(TestEnvironment.RepositoryRoot(), "e2e", "services", "node_modules", "axe-core", "axe.min.js");

    /// <summary>The serious and critical axe violations of the page as it is now, one line each (rule, help, first elements).</summary>
    private static async Task<IReadOnlyList<string>> AxeAsync(IPage page)
    {
        await page.AddScriptTagAsync(new PageAddScriptTagOptions { Path = AxeScript });
        return await page.EvaluateAsync<string[]>("""
            async () => {
              const result = await axe.run(document, { resultTypes: ['violations'] });
              return result.violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')}`);
            }
            """);
    }

    /// <summary>Cells of folded tables (MudTable; a MudSimpleTable scrolls instead) that would show a value without its name on a phone: the first few per page.</summary>
    private static Task<string[]> UnlabelledCellsAsync(IPage page) =>
        page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll('.mud-table:not(.mud-simple-table) tbody tr')]
              .filter(tr => !tr.querySelector('td[colspan]'))
              .flatMap(tr => [...tr.querySelectorAll('td')])
              .filter(td => !td.getAttribute('data-label'))
              .slice(0, 3).map(td => `"${td.textContent.trim().slice(0, 40)}"`)
            """);

    private static Task<bool> OverflowsAsync(IPage page) =>
        page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth > window.innerWidth + 1");

    [Fact]
    public async Task The_main_pages_pass_axe_in_light_and_dark_fit_390_px_and_keep_the_dark_theme_across_a_reload()
    {
        await using var app = new PortalApp();
        await RestoreJourneyTests.ProtectedShareAsync(app);
        Guid itemId, jobId;
        using (var scope = app.Services.CreateScope())
        {
            await using var db = await scope.ServiceProvider.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
            itemId = (await db.BackupItems.SingleAsync()).Id;
            jobId = (await db.Jobs.OrderBy(j => j.QueuedAt).FirstAsync()).Id; // the share's backup
        }

        await using var browser = await Browser.StartAsync("portal-pass", bypassCsp: true);
        var page = browser.Page;
        await browser.SignInLocallyAsync(app.BaseUrl, "Paula Pass", "/");
        await browser.WaitInteractiveAsync();

        // Every page of the menu, and the pages they lead to (a job, protect, a new policy, the drill evidence, the Reports
        // tab the Backup center links to, access denied, not found). A database item's restore page (it needs a PostgreSQL item) is not in this walk.
        string[] pages =
        [
            "/", "/vaults", "/vaults/finance", "/items", $"/items/{itemId}", "/restore", "/jobs", "/alerts", "/reports", "/approvals", "/audit",
            "/machines", "/vaults/finance/policies/DefaultPolicy", $"/jobs/{jobId}", "/vaults/finance/protect", "/vaults/finance/new-policy",
            $"/drills/evidence?item={itemId}", "/reports?tab=compliance", "/account/access-denied", "/no-such-page",
        ];
        string[] withoutLayout = ["/account/access-denied", "/no-such-page"]; // plain pages (EmptyLayout): no interactive marker to wait for
        async Task OpenAsync(string path)
        {
            await page.GotoAsync(app.BaseUrl + path);
            if (withoutLayout.Contains(path))
                await Expect(page.Locator("h1")).ToBeVisibleAsync();
            else
                await browser.WaitInteractiveAsync();
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        }

        var violations = new List<string>();
        foreach (var path in pages)
        {
            await OpenAsync(path);
            violations.AddRange((await AxeAsync(page)).Select(v => $"{path}: {v}"));
        }

        // Dark mode: chosen with the toggle, kept by a full page load.
        await page.GotoAsync(app.BaseUrl + "/vaults");
        await browser.WaitInteractiveAsync();
        await Expect(page.GetByTestId("theme-toggle")).ToHaveAttributeAsync("aria-pressed", "false");
        await page.GetByTestId("theme-toggle").ClickAsync();
        await Expect(page.GetByTestId("theme-toggle")).ToHaveAttributeAsync("aria-pressed", "true");
        await page.ReloadAsync();
        await Expect(page.GetByTestId("theme-toggle")).ToHaveAttributeAsync("aria-pressed", "true"); // already in the server's render
        await browser.WaitInteractiveAsync();
        await Expect(page.GetByTestId("theme-toggle")).ToHaveAttributeAsync("aria-pressed", "true");
        var background = await page.EvaluateAsync<string>("() => getComputedStyle(document.querySelector('.mud-layout') || document.body).backgroundColor");
        Assert.NotEqual("rgb(255, 255, 255)", background);
        await browser.ScreenshotAsync("dark-after-reload");

        // 390 px, in the dark theme: every page of the menu without horizontal scrolling, and axe again (dark colours).
        await page.SetViewportSizeAsync(390, 844);
        var overflowing = new List<string>();
        var unlabelled = new List<string>();
        foreach (var path in pages)
        {
            await OpenAsync(path);
            await browser.ScreenshotAsync("390-dark" + (path == "/" ? "-backup-center"
                : path.Replace('/', '-').Replace('?', '-').Replace('=', '-').Replace(itemId.ToString(), "item").Replace(jobId.ToString(), "job")));
            if (await OverflowsAsync(page))
                overflowing.Add(path);
            unlabelled.AddRange((await UnlabelledCellsAsync(page)).Select(c => $"{path}: {c}"));
            violations.AddRange((await AxeAsync(page)).Select(v => $"{path} (dark, 390 px): {v}"));
        }

        // A folded table on /reports: each card names its values ("Day", "Kind" …), shown before the value on a phone.
        await page.GotoAsync(app.BaseUrl + "/reports");
        await browser.WaitInteractiveAsync();
        var card = page.Locator("[data-testid=report-jobs] tbody tr").First;
        await Expect(card).ToBeVisibleAsync();
        var labels = await card.Locator("td").EvaluateAllAsync<string[]>("tds => tds.map(td => td.getAttribute('data-label'))");
        Assert.Equal(["Day", "Kind", "Total", "Completed", "With warnings", "Failed", "Cancelled", "Success rate"], labels);
        var before = await card.Locator("td").First.EvaluateAsync<string>("td => getComputedStyle(td, '::before').content");
        Assert.DoesNotContain(before, new[] { "none", "normal", "", "\"\"" });
        await browser.ScreenshotAsync("390-reports-folded-card");

        // On a phone the page actions sit behind one "Page actions" button.
        await page.GotoAsync(app.BaseUrl + $"/items/{itemId}");
        await browser.WaitInteractiveAsync();
        await Expect(page.GetByTestId("item-edit")).ToBeHiddenAsync();
        await page.GetByTestId("page-actions-toggle").ClickAsync();
        await Expect(page.GetByTestId("item-edit")).ToBeVisibleAsync();
        await browser.ScreenshotAsync("390-item-actions-open");

        await page.GotoAsync(app.BaseUrl + "/restore");
        await browser.WaitInteractiveAsync();
        await page.Locator("[data-testid='restore-item'][data-name='share']").ClickAsync();
        await page.GetByTestId("restore-point").First.ClickAsync();
        await Expect(page.Locator("[data-testid='restore-entry'][data-path='notes.txt']")).ToBeVisibleAsync();
        // The file browser keeps preview and download on a phone, and the preview fits.
        var notes = page.Locator("[data-testid='restore-entry'][data-path='notes.txt']");
        await Expect(notes.GetByTestId("restore-entry-download")).ToBeVisibleAsync();
        await notes.GetByTestId("restore-entry-preview").ClickAsync();
        await Expect(page.GetByTestId("restore-preview")).ToContainTextAsync("plain notes");
        await browser.ScreenshotAsync("restore-files-390");
        if (await OverflowsAsync(page))
            overflowing.Add("/restore (files step)");
        violations.AddRange((await AxeAsync(page)).Select(v => $"/restore (files step): {v}"));

        // The stepper is one tab stop: only the active step's header is in the tab order.
        var tabStops = await page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll('[data-testid=restore-wizard] .mud-stepper-nav *')]
              .filter(e => e.tabIndex >= 0 && !e.disabled && e.offsetParent !== null).map(e => e.textContent.trim())
            """);
        Assert.Single(tabStops);
        Assert.Contains("Files", tabStops[0]);

        Assert.True(violations.Count == 0, "axe found serious or critical violations:\n" + string.Join("\n", violations));
        Assert.True(overflowing.Count == 0, "wider than 390 px: " + string.Join(", ", overflowing));
        Assert.True(unlabelled.Count == 0, "cells of folded tables without a label (DataLabel): " + string.Join(", ", unlabelled));
    }
}
