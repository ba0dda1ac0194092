using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Portal.Engine.Agents;
using Portal.Features.Protection;
using Quartz;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E;

/// <summary>
/// An operator adds machines to a vault in Chromium (the credentials files are real browser downloads), and, with two
/// real Portal.Agent processes registered with those files, protects a folder of one, backs it up live, lets the schedule
/// back it up, and restores a file to it and everything onto the other machine from the restore wizard.
/// </summary>
public sealed class MachineJourneyTests(ITestOutputHelper output)
{
    private const string MachinePassphrase = "machine passphrase of the estate";

    [Fact]
    public async Task An_operator_downloads_a_machines_credentials_file_from_the_vault_page_and_sees_it_waiting()
    {
        await using var app = new PortalApp();
        await using var browser = await Browser.StartAsync("machine-journey");
        var page = browser.Page;
        await browser.SignInLocallyAsync(app.BaseUrl, "Erin Operator", "/vaults");
        await browser.WaitInteractiveAsync();
        await browser.CreateVaultAsync(app.BaseUrl, "Estate");

        await page.GetByTestId("add-machine").ClickAsync();
        await Expect(page.GetByTestId("add-machine-dialog")).ToContainTextAsync("sudo portal-agent register --credentials FILE");
        await browser.ScreenshotAsync("add-a-machine");
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("add-machine-download").ClickAsync());
        Assert.EndsWith(".portalcredentials", download.SuggestedFilename);
        var file = JsonSerializer.Deserialize<MachineCredentialsFile>(await File.ReadAllTextAsync((await download.PathAsync())!))!;
        Assert.Equal("Estate", file.VaultName);
        Assert.Equal(app.BaseUrl, file.Portal.TrimEnd('/'));
        Assert.InRange(file.ExpiresAt - DateTimeOffset.UtcNow, TimeSpan.FromDays(10) - TimeSpan.FromMinutes(5), TimeSpan.FromDays(10));
        await Expect(page.GetByTestId("add-machine-downloaded")).ToContainTextAsync(download.SuggestedFilename);
        await Expect(page.GetByTestId("add-machine-dialog")).ToContainTextAsync($"sudo portal-agent register --credentials {download.SuggestedFilename}");
        await browser.ScreenshotAsync("credentials-downloaded");
        await page.GetByTestId("add-machine-close").ClickAsync();

        // The file waits on the vault's page to be used; no machine yet, on the page or on the Machines page.
        await Expect(page.GetByTestId("machine-credential")).ToHaveCountAsync(1);
        await browser.ScreenshotAsync("vault-machines-card");
        await page.GotoAsync(app.BaseUrl + "/machines");
        await browser.WaitInteractiveAsync();
        await Expect(page.GetByTestId("machines-empty")).ToBeVisibleAsync();
        await browser.ScreenshotAsync("machines-empty");
        await page.SetViewportSizeAsync(390, 844);
        await browser.ScreenshotAsync("machines-empty-390");
        await page.GotoAsync(app.BaseUrl + "/vaults/Estate");
        await browser.WaitInteractiveAsync();
        await Expect(page.GetByTestId("machine-credential")).ToHaveCountAsync(1);
        await browser.ScreenshotAsync("vault-machines-card-390");
    }

    [Fact]
    public async Task Two_machines_registered_from_the_browser_back_up_live_and_on_schedule_and_restore_to_themselves_and_to_each_other()
    {
        var disks = Directory.CreateTempSubdirectory("portal-e2e-machines-").FullName; // the two machines' disks
        try
        {
            await using var app = new PortalApp();
            await using var browser = await Browser.StartAsync("machines-back-up-and-restore");
            var page = browser.Page;
            await browser.SignInLocallyAsync(app.BaseUrl, "Erin Operator", "/vaults");
            await browser.WaitInteractiveAsync();
            await browser.CreateVaultAsync(app.BaseUrl, "Estate");

            // Two credentials files downloaded in the browser, one per machine; each agent registers with its own and connects.
            var webCredentials = await DownloadCredentialsAsync(browser, Path.Combine(disks, "web-01"));
            var dbCredentials = await DownloadCredentialsAsync(browser, Path.Combine(disks, "db-01"));
            await using var web = await MachineAgent.RegisterAsync("web-01", webCredentials, MachinePassphrase, Path.Combine(disks, "web-01", "agent"));
            await using var db = await MachineAgent.RegisterAsync("db-01", dbCredentials, MachinePassphrase, Path.Combine(disks, "db-01", "agent"));
            await Task.WhenAll(web.RunAsync(), db.RunAsync());

            // Online on the vault's page (both files used) and on the Machines page, also on a phone.
            await page.ReloadAsync();
            await browser.WaitInteractiveAsync();
            await Expect(MachineRow(page, "web-01").GetByTestId("machine-status")).ToHaveTextAsync("Online");
            await Expect(MachineRow(page, "db-01").GetByTestId("machine-status")).ToHaveTextAsync("Online");
            await Expect(page.GetByTestId("machine-credential-state")).ToHaveCountAsync(2);
            foreach (var state in await page.GetByTestId("machine-credential-state").AllTextContentsAsync())
                Assert.Contains("Used", state);
            await browser.ScreenshotAsync("vault-with-two-machines-online");
            await page.GotoAsync(app.BaseUrl + "/machines");
            await browser.WaitInteractiveAsync();
            await Expect(page.GetByTestId("machine-status")).ToHaveTextAsync(["Online", "Online"]);
            await Expect(MachineRow(page, "web-01")).ToContainTextAsync("Estate");
            await Expect(MachineRow(page, "web-01").GetByTestId("machine-items")).ToHaveTextAsync("None yet");
            await browser.ScreenshotAsync("machines-online");
            await page.SetViewportSizeAsync(390, 844);
            await Expect(page.GetByTestId("machine-status")).ToHaveTextAsync(["Online", "Online"]);
            await browser.ScreenshotAsync("machines-online-390");
            await page.SetViewportSizeAsync(1280, 800);
            // The resize re-renders the table (new event handlers for its buttons): a click during that render is lost.
            // A page loaded at this width has nothing pending.
            await page.ReloadAsync();
            await browser.WaitInteractiveAsync();
            await Expect(page.GetByTestId("machine-status")).ToHaveTextAsync(["Online", "Online"]);

            // Upload limits for web-01, reaching its connected agent at once (they keep the backup below uploading for about 3 s: long enough to watch).
            await MachineRow(page, "web-01").GetByTestId("machine-upload-limits-edit").ClickAsync();
            await page.FillAsync("#upload-limit-work", "4096");
            await page.FillAsync("#upload-limit-off-hours", "4096");
            await page.GetByTestId("upload-limits-save").ClickAsync();
            await Expect(MachineRow(page, "web-01").GetByTestId("machine-upload-limits")).ToHaveTextAsync("Upload limit: 4096 KiB/s in work hours, 4096 KiB/s outside");
            await web.SaysAsync("The portal changed the settings: ", TimeSpan.FromSeconds(20));

            // A folder on web-01, protected from its row: the machine is chosen, and no vault passphrase is asked (the machine encrypts with its own key).
            var share = Directory.CreateDirectory(Path.Combine(disks, "web-01", "srv", "share")).FullName;
            Directory.CreateDirectory(Path.Combine(share, "docs"));
            Directory.CreateDirectory(Path.Combine(share, "images"));
            await File.WriteAllTextAsync(Path.Combine(share, "report.txt"), "quarterly figures, as approved");
            await File.WriteAllTextAsync(Path.Combine(share, "docs", "plan.txt"), "the plan for next year");
            await File.WriteAllBytesAsync(Path.Combine(share, "images", "site-1.raw"), RandomNumberGenerator.GetBytes(6 * 1024 * 1024));
            await File.WriteAllBytesAsync(Path.Combine(share, "images", "site-2.raw"), RandomNumberGenerator.GetBytes(6 * 1024 * 1024));
            var original = Directory.GetFiles(share, "*", SearchOption.AllDirectories)
                .ToDictionary(f => Path.GetRelativePath(share, f), File.ReadAllBytes);

            await MachineRow(page, "web-01").GetByTestId("machine-protect").ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/vaults/Estate/protect\\?machine=[0-9a-f-]{36}$"));
            await browser.WaitInteractiveAsync();
            await Expect(page.GetByTestId("item-machine")).ToContainTextAsync("web-01");
            await Expect(page.GetByText("Folder on web-01")).ToBeVisibleAsync();
            await page.FillAsync("#item-name", "Web share");
            // The folder is chosen in the picker: web-01's agent lists its folders over its connection (issue 21).
            await page.FillAsync("#item-source", Path.GetDirectoryName(share)!);
            await page.GetByTestId("folder-picker-open").ClickAsync();
            await Expect(page.GetByTestId("folder-picker-path")).ToHaveTextAsync(Path.GetDirectoryName(share)!);
            await Expect(page.GetByTestId("folder-picker-entry")).ToHaveTextAsync(["share"]);
            await page.GetByTestId("folder-picker-entry").ClickAsync();
            await Expect(page.GetByTestId("folder-picker-entry")).ToHaveTextAsync(["docs", "images"]);
            await browser.ScreenshotAsync("folder-picker-on-web-01");
            await page.GetByTestId("folder-picker-choose").ClickAsync();
            await Expect(page.Locator("#item-source")).ToHaveValueAsync(share);
            await Expect(page.Locator("#item-passphrase")).ToHaveCountAsync(0);
            await browser.ScreenshotAsync("protect-a-folder-of-web-01");
            await page.GetByTestId("protect-submit").ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/items/[0-9a-f-]{36}$"));
            var itemUrl = page.Url;
            var itemId = Guid.Parse(itemUrl[^36..]);
            await browser.WaitInteractiveAsync();
            await Expect(page.GetByTestId("item-machine")).ToHaveTextAsync("web-01");
            await Expect(page.GetByTestId("item-state")).ToHaveTextAsync("protected");

            // Back up now; the job's page shows it running on web-01 with its amounts, then Completed.
            await page.EvaluateAsync(RecordProgress);
            await page.GetByTestId("item-backup-now").ClickAsync();
            await page.GetByTestId("backup-now-submit").ClickAsync();
            await page.GetByTestId("item-job-link").First.ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/jobs/[0-9a-f-]{36}$"));
            await Expect(page.GetByTestId("job-run-by")).ToHaveTextAsync("machine web-01");
            await browser.ScreenshotAsync("backup-running-on-web-01");
            await Expect(page.GetByTestId("job-status")).ToHaveTextAsync("Completed", new() { Timeout = 90_000 });
            await Expect(page.GetByTestId("job-amounts")).ToContainTextAsync("4 of 4 files");
            await Expect(page.GetByTestId("job-message")).ToContainTextAsync("4 files, 12.6 MB; read 4 new or changed files, 0 unchanged; added 12.6 MB to the vault");
            var seen = await page.EvaluateAsync<string[]?>("() => window.progressSeen") ?? [];
            output.WriteLine("Progress seen: " + string.Join(" → ", seen));
            // Seen live, without a reload: running, then with this backup's amounts (the 4 MB/s limit keeps its upload running
            // for about 3 s), then Completed. (The amounts count what the agent has read: they reach 12.6 MB before the upload ends.)
            Assert.True(seen.Length > 1 && seen[^1] == "Completed · 12.6 MB of 12.6 MB · 4 of 4 files", string.Join(" → ", seen));
            Assert.True(seen.SkipLast(1).All(s => s.StartsWith("Queued · ", StringComparison.Ordinal) || s.StartsWith("In progress · ", StringComparison.Ordinal)),
                string.Join(" → ", seen));
            Assert.Contains(seen, s => s.StartsWith("In progress · ", StringComparison.Ordinal) && s.Contains(" of 12.6 MB · ", StringComparison.Ordinal));
            await browser.ScreenshotAsync("backup-completed");

            // Its recovery point on the item's page, and the machine's last backup on the Machines page.
            await page.GetByTestId("job-item-link").ClickAsync();
            await Expect(page.GetByTestId("recovery-point-time")).ToHaveCountAsync(1);
            await Expect(page.GetByTestId("recovery-point-type")).ToHaveTextAsync(["On demand"]);
            await Expect(page.GetByTestId("item-last-backup")).ToContainTextAsync("Completed");

            // The schedule fires (the item's own Quartz job, as its policy's trigger fires it): web-01 backs up again, a Scheduled point.
            var scheduler = await app.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
            await scheduler.TriggerJob(ProtectionScheduler.BackupJobKey(itemId));
            await Expect(page.GetByTestId("recovery-point-type")).ToHaveTextAsync(["Scheduled", "On demand"], new() { Timeout = 90_000 });
            await browser.ScreenshotAsync("scheduled-point");
            await page.GetByTestId("item-job-link").First.ClickAsync();
            await Expect(page.GetByTestId("job-status")).ToHaveTextAsync("Completed");
            await Expect(page.GetByTestId("job-started")).ToContainTextAsync("by schedule (DefaultPolicy)");
            await Expect(page.GetByTestId("job-message")).ToContainTextAsync("read 0 new or changed files, 4 unchanged; added 0 B to the vault"); // incremental
            await Expect(page.GetByTestId("job-run-by")).ToHaveTextAsync("machine web-01");
            await browser.ScreenshotAsync("scheduled-job");
            await page.GotoAsync(app.BaseUrl + "/machines");
            await browser.WaitInteractiveAsync();
            await Expect(MachineRow(page, "web-01").GetByTestId("machine-items")).ToHaveTextAsync("1: Web share");
            await Expect(MachineRow(page, "web-01").GetByTestId("machine-last-backup")).ToContainTextAsync("Completed");

            // The help desk: report.txt was overwritten by mistake; its backed-up version comes back next to it, on web-01.
            await File.WriteAllTextAsync(Path.Combine(share, "report.txt"), "overwritten by mistake");
            await browser.SignInLocallyAsync(app.BaseUrl, "Helen Helpdesk", "/restore", "#role-restore-operator");
            await Expect(page).ToHaveURLAsync(app.BaseUrl + "/restore");
            await browser.WaitInteractiveAsync();
            await ChooseItemAndPointAsync(page);
            await page.Locator("[data-testid='restore-entry'][data-path='report.txt'] input[type='checkbox']").CheckAsync();
            await page.GetByTestId("restore-next").ClickAsync();
            await Expect(page.GetByTestId("restore-target-machine")).ToContainTextAsync("web-01");
            await Expect(page.GetByRole(AriaRole.Radio, new() { Name = $"Original location (web-01: {share})" })).ToBeCheckedAsync();
            await browser.ScreenshotAsync("restore-to-web-01-destination");
            await page.GetByTestId("restore-next").ClickAsync();
            await Expect(page.GetByTestId("restore-summary")).ToContainTextAsync($"Restore report.txt (1 file, 30 B) of Web share");
            await Expect(page.GetByTestId("restore-summary")).ToContainTextAsync($"to {share} on machine web-01");
            await page.GetByTestId("restore-start").ClickAsync();
            await Expect(page.GetByTestId("job-status")).ToHaveTextAsync("Completed", new() { Timeout = 60_000 });
            await browser.ScreenshotAsync("restored-on-web-01");
            var copy = Assert.Single(Directory.GetFiles(share, "*Copy of report.txt"));
            Assert.Equal(original["report.txt"], await File.ReadAllBytesAsync(copy));
            Assert.Equal("overwritten by mistake", await File.ReadAllTextAsync(Path.Combine(share, "report.txt")));

            // Everything of the point onto db-01, into a folder there: db-01 reads web-01's backup for this job only.
            await page.GetByTestId("restore-again").ClickAsync();
            await ChooseItemAndPointAsync(page);
            foreach (var entry in new[] { "docs", "images", "report.txt" })
                await page.Locator($"[data-testid='restore-entry'][data-path='{entry}'] input[type='checkbox']").CheckAsync();
            await page.GetByTestId("restore-next").ClickAsync();
            await page.GetByTestId("restore-target-machine").ClickAsync();
            await page.GetByRole(AriaRole.Option, new() { Name = "db-01" }).ClickAsync();
            await Expect(page.GetByRole(AriaRole.Radio, new() { NameRegex = new Regex("^Original location") })).ToBeDisabledAsync();
            await Expect(page.GetByRole(AriaRole.Radio, new() { Name = "Another folder" })).ToBeCheckedAsync();
            var elsewhere = Path.Combine(disks, "db-01", "restores", "ticket-1234");
            await page.FillAsync("#restore-alternate-path", elsewhere);
            await browser.ScreenshotAsync("restore-onto-db-01-destination");
            await page.GetByTestId("restore-next").ClickAsync();
            await Expect(page.GetByTestId("restore-summary")).ToContainTextAsync($"to {elsewhere} on machine db-01");
            await page.GetByTestId("restore-start").ClickAsync();
            await Expect(page.GetByTestId("job-status")).ToHaveTextAsync("Completed", new() { Timeout = 60_000 });
            await browser.ScreenshotAsync("restored-onto-db-01");
            foreach (var (path, bytes) in original)
            {
                var restored = await File.ReadAllBytesAsync(Path.Combine(elsewhere, path));
                Assert.True(bytes.AsSpan().SequenceEqual(restored), $"{path} on db-01 differs from web-01's");
            }
            await page.GetByTestId("restore-job-link").ClickAsync();
            await Expect(page.GetByTestId("job-run-by")).ToHaveTextAsync("machine db-01");
            await browser.ScreenshotAsync("restore-job-on-db-01");
        }
        finally
        {
            Directory.Delete(disks, recursive: true);
        }
    }

    /// <summary>"Add a machine" on the vault's page: the credentials file, downloaded by the browser and saved on the machine's disk.</summary>
    private static async Task<string> DownloadCredentialsAsync(Browser browser, string machineDisk)
    {
        var page = browser.Page;
        await page.GetByTestId("add-machine").ClickAsync();
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("add-machine-download").ClickAsync());
        var path = Path.Combine(machineDisk, download.SuggestedFilename);
        await download.SaveAsAsync(path);
        await page.GetByTestId("add-machine-close").ClickAsync();
        await Expect(page.GetByTestId("add-machine-dialog")).ToHaveCountAsync(0);
        return path;
    }

    private static ILocator MachineRow(IPage page, string name) =>
        page.Locator("[data-testid='machine-table'] tbody tr").Filter(new() { Has = page.Locator("[data-testid='machine-name']", new() { HasTextString = name }) });

    /// <summary>The wizard's first two steps for the item "Web share": the item, then its first recovery point.</summary>
    private static async Task ChooseItemAndPointAsync(IPage page)
    {
        await page.FillAsync("#restore-item-search", "Web share");
        await page.Locator("[data-testid='restore-item'][data-name='Web share']").ClickAsync();
        await page.GetByTestId("restore-point").First.ClickAsync();
        await Expect(page.Locator("[data-testid='restore-entry'][data-path='report.txt']")).ToBeVisibleAsync();
    }

    /// <summary>Records every status and amounts shown by the page's job progress, across the circuit's navigations.</summary>
    private const string RecordProgress = """
        () => {
          window.progressSeen = [];
          const record = () => {
            const status = document.querySelector("[data-testid=job-progress] [data-testid=job-status]")?.textContent.trim();
            const amounts = document.querySelector("[data-testid=job-progress] [data-testid=job-amounts]")?.textContent.trim() ?? "";
            if (!status) return;
            const text = status + " · " + amounts;
            if (window.progressSeen.at(-1) !== text) window.progressSeen.push(text);
          };
          new MutationObserver(record).observe(document.body, { subtree: true, childList: true, characterData: true });
        }
        """;
}
