using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Policies;
using Portal.Features.Protection;
using Portal.Features.Vaults;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E;

/// <summary>The help-desk journeys of the restore wizard, as a Restore.Operator in Chromium, with a screenshot per step.</summary>
public sealed class RestoreJourneyTests
{
    private const string Passphrase = "correct horse battery staple";

    /// <summary>A vault with a protected share and one recovery point, made through the portal's own services.</summary>
    internal static async Task<string> ProtectedShareAsync(PortalApp app, StorageRedundancy redundancy = StorageRedundancy.LRS, Action<string>? moreFiles = null)
    {
        var source = Path.Combine(app.SourceRoot, "share");
        Directory.CreateDirectory(Path.Combine(source, "slides"));
        File.WriteAllText(Path.Combine(source, "slides", "q3.pptx"), "quarter three");
        File.WriteAllText(Path.Combine(source, "notes.txt"), "plain notes for the help desk");
        moreFiles?.Invoke(source);
        using var scope = app.Services.CreateScope();
        var principal = scope.ServiceProvider.GetRequiredService<LocalSignIn>().CreatePrincipal("Setup", [PortalRoles.Contributor]);
        ((IHostEnvironmentAuthenticationStateProvider)scope.ServiceProvider.GetRequiredService<AuthenticationStateProvider>())
            .SetAuthenticationState(Task.FromResult(new AuthenticationState(principal)));
        var vault = await scope.ServiceProvider.GetRequiredService<VaultService>().CreateAsync(new CreateVaultRequest("finance", "east", redundancy));
        var policy = (await scope.ServiceProvider.GetRequiredService<PolicyService>().ListAsync(vault.Id)).Single();
        var protection = scope.ServiceProvider.GetRequiredService<ProtectionService>();
        var item = await protection.ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "share", source, null, null, Passphrase, Passphrase));
        var job = await protection.BackUpNowAsync(item.Item.Id, DateTime.UtcNow.AddDays(30));
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var notifier = app.Services.GetRequiredService<JobNotifier>();
        Task OnChanged(Job j)
        {
            if (j.Status.IsFinished()) finished.TrySetResult();
            return Task.CompletedTask;
        }

        using (notifier.Subscribe(JobTopic.OfJob(job.Id), OnChanged))
        {
            if ((await scope.ServiceProvider.GetRequiredService<JobQueries>().GetAsync(job.Id))?.Status.IsFinished() != true)
                await finished.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }

        return source;
    }

    /// <param name="byKeyboard">Choose the point by keyboard: the step gives the focus to "Latest", and Space chooses it.</param>
    private static async Task OpenWizardAtFilesAsync(Browser browser, PortalApp app, string journeyUser, bool byKeyboard = false)
    {
        var page = browser.Page;
        await browser.SignInLocallyAsync(app.BaseUrl, journeyUser, "/restore", "#role-restore-operator");
        await Expect(page).ToHaveURLAsync(app.BaseUrl + "/restore");
        await browser.WaitInteractiveAsync();
        await page.FillAsync("#restore-item-search", "share");
        await page.Locator("[data-testid='restore-item'][data-name='share']").ClickAsync();
        await browser.ScreenshotAsync("item-chosen");
        if (byKeyboard)
        {
            await Expect(page.GetByTestId("restore-point-latest")).ToBeFocusedAsync();
            await page.Keyboard.PressAsync("Space");
        }
        else
            await page.GetByTestId("restore-point").First.ClickAsync();
        await Expect(page.Locator("[data-testid='restore-entry'][data-path='notes.txt']")).ToBeVisibleAsync();
        await browser.ScreenshotAsync("files-of-the-point");
    }

    [Fact]
    public async Task A_restore_operator_restores_a_deleted_file_to_its_original_folder_and_watches_it_finish()
    {
        await using var app = new PortalApp();
        var source = await ProtectedShareAsync(app);
        File.Delete(Path.Combine(source, "notes.txt"));
        await using var browser = await Browser.StartAsync("restore-deleted-file");
        var page = browser.Page;
        await OpenWizardAtFilesAsync(browser, app, "Helen");

        await page.Locator("[data-testid='restore-entry'][data-path='notes.txt'] input[type='checkbox']").CheckAsync();
        await Expect(page.GetByTestId("restore-selected")).ToContainTextAsync("Selected: notes.txt");

        await page.ReloadAsync(); // the wizard keeps its state across a reload
        await browser.WaitInteractiveAsync();
        await Expect(page.Locator("[data-testid='restore-entry'][data-path='notes.txt'] input[type='checkbox']")).ToBeCheckedAsync();
        await Expect(page.GetByTestId("restore-selected")).ToContainTextAsync("Selected: notes.txt");
        await browser.ScreenshotAsync("after-reload");

        await page.GetByTestId("restore-next").ClickAsync();
        await Expect(page.Locator("[data-testid='restore-conflict-overwrite'] input, input[data-testid='restore-conflict-overwrite']")).ToBeDisabledAsync(); // Restore.Operator: copies only
        await browser.ScreenshotAsync("destination");
        await page.GetByTestId("restore-next").ClickAsync();
        await Expect(page.GetByTestId("restore-summary")).ToContainTextAsync($"Restore notes.txt (1 file, 29 B) of share");
        await Expect(page.GetByTestId("restore-summary")).ToContainTextAsync($"to {source}");
        await browser.ScreenshotAsync("review");
        await page.GetByTestId("restore-start").ClickAsync();

        await Expect(page.GetByTestId("job-status")).ToHaveTextAsync("Completed", new() { Timeout = 60_000 });
        await Expect(page.GetByTestId("job-message")).ToContainTextAsync("Restored 1 file (29 B) to ");
        await browser.ScreenshotAsync("restored");
        Assert.Equal("plain notes for the help desk", File.ReadAllText(Path.Combine(source, "notes.txt")));
    }

    [Fact]
    public async Task A_folder_outside_the_restore_roots_is_refused_with_the_reason_and_a_download_gives_the_same_bytes()
    {
        await using var app = new PortalApp();
        var source = await ProtectedShareAsync(app);
        await using var browser = await Browser.StartAsync("restore-refused-and-download");
        var page = browser.Page;
        await OpenWizardAtFilesAsync(browser, app, "Helen");

        var download = await page.RunAndWaitForDownloadAsync(() =>
            page.Locator("[data-testid='restore-entry'][data-path='notes.txt'] [data-testid='restore-entry-download']").ClickAsync());
        var saved = Path.Combine(app.RestoreRoot, "downloaded.txt");
        await download.SaveAsAsync(saved);
        Assert.Equal(File.ReadAllBytes(Path.Combine(source, "notes.txt")), File.ReadAllBytes(saved));
        Assert.Equal("notes.txt", download.SuggestedFilename);

        await page.Locator("[data-testid='restore-entry'][data-path='slides'] input[type='checkbox']").CheckAsync();
        await page.GetByTestId("restore-next").ClickAsync();
        await page.GetByText("Another folder").ClickAsync();
        await page.FillAsync("#restore-alternate-path", "/etc/portal-restore");
        await page.GetByTestId("restore-next").ClickAsync();
        await Expect(page.GetByText("is outside the folders restores may write to")).ToBeVisibleAsync();
        await browser.ScreenshotAsync("refused-outside-roots");
        Assert.False(Directory.Exists("/etc/portal-restore"));
    }

    [Fact]
    public async Task A_folder_restored_to_an_alternate_folder_with_skip_keeps_the_file_already_there()
    {
        await using var app = new PortalApp();
        await ProtectedShareAsync(app);
        var target = Path.Combine(app.RestoreRoot, "ticket-1234");
        Directory.CreateDirectory(Path.Combine(target, "slides"));
        File.WriteAllText(Path.Combine(target, "slides", "q3.pptx"), "the user's own newer copy");
        await using var browser = await Browser.StartAsync("restore-folder-alternate-skip");
        var page = browser.Page;
        await OpenWizardAtFilesAsync(browser, app, "Helen");

        await page.Locator("[data-testid='restore-entry'][data-path='slides'] input[type='checkbox']").CheckAsync();
        await page.GetByTestId("restore-next").ClickAsync();
        await page.GetByText("Another folder").ClickAsync();
        await page.FillAsync("#restore-alternate-path", target);
        await page.GetByText("Keep it and skip that file").ClickAsync();
        await browser.ScreenshotAsync("alternate-folder-with-skip");
        await page.GetByTestId("restore-next").ClickAsync();
        await Expect(page.GetByTestId("restore-summary")).ToContainTextAsync("files already there are kept and not restored");
        await page.GetByTestId("restore-start").ClickAsync();

        await Expect(page.GetByTestId("job-status")).ToHaveTextAsync("Completed", new() { Timeout = 60_000 });
        await Expect(page.GetByTestId("job-message")).ToContainTextAsync("skipped 1 already there");
        await browser.ScreenshotAsync("restored-with-skip");
        Assert.Equal("the user's own newer copy", File.ReadAllText(Path.Combine(target, "slides", "q3.pptx")));
    }

    [Fact]
    public async Task With_the_primary_region_stopped_a_GRS_vault_restores_from_the_secondary()
    {
        await using var app = new PortalApp();
        var source = await ProtectedShareAsync(app, StorageRedundancy.GRS);
        var stores = app.Services.GetRequiredService<Portal.Features.Regions.RegionStores>();
        Guid vaultId;
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<Portal.Data.PortalDbContext>>().CreateDbContextAsync())
            vaultId = await db.Vaults.Where(v => v.Name == "finance").Select(v => v.Id).SingleAsync();
        await new Portal.Engine.Replication.RegionReplicator(stores.Vault(vaultId, "east"), stores.Vault(vaultId, "west"), TimeProvider.System).ReplicateAsync();

        foreach (var replica in Directory.GetDirectories(Path.Combine(Path.GetDirectoryName(app.SourceRoot)!, "east")))
            Directory.Delete(replica, recursive: true); // the primary region stops: all three copies are gone
        File.Delete(Path.Combine(source, "notes.txt"));

        await using var browser = await Browser.StartAsync("restore-cross-region");
        var page = browser.Page;
        await OpenWizardAtFilesAsync(browser, app, "Helen");
        await browser.ScreenshotAsync("browsing-the-secondary");
        await page.Locator("[data-testid='restore-entry'][data-path='notes.txt'] input[type='checkbox']").CheckAsync();
        await page.GetByTestId("restore-next").ClickAsync();
        // The Files step's Next and the Destination step's Review share a test id: click Review only once it is there.
        await Expect(page.GetByTestId("restore-next")).ToHaveTextAsync("Review");
        await page.GetByTestId("restore-next").ClickAsync();
        await Expect(page.GetByTestId("restore-summary")).ToContainTextAsync("reading from the secondary region west");
        await page.GetByTestId("restore-start").ClickAsync();

        await Expect(page.GetByTestId("job-status")).ToHaveTextAsync("Completed", new() { Timeout = 60_000 });
        await browser.ScreenshotAsync("restored-from-west");
        Assert.Equal("plain notes for the help desk", File.ReadAllText(Path.Combine(source, "notes.txt")));
    }

    [Fact]
    public async Task A_help_desk_person_browses_by_breadcrumb_searches_in_any_case_and_restores_a_copy_and_reads_its_name_and_path()
    {
        await using var app = new PortalApp();
        var source = await ProtectedShareAsync(app, moreFiles: share =>
        {
            Directory.CreateDirectory(Path.Combine(share, "docs", "adduser", "examples"));
            File.WriteAllText(Path.Combine(share, "docs", "adduser", "examples", "Readme.TXT"), "how to add a user");
        });
        await using var browser = await Browser.StartAsync("restore-help-desk-copy");
        var page = browser.Page;
        await OpenWizardAtFilesAsync(browser, app, "Helen", byKeyboard: true);
        var current = page.GetByTestId("restore-crumb-current");
        await Expect(current).ToHaveTextAsync("share");
        await Expect(page.Locator("#restore-file-search")).ToBeFocusedAsync(); // each step takes the focus to its first control

        // Into docs / adduser / examples and back out by the breadcrumbs and "up": the wizard never leaves /restore.
        await page.Locator("[data-testid='restore-entry'][data-path='docs'] [data-testid='restore-entry-open']").ClickAsync();
        await Expect(current).ToHaveTextAsync("docs");
        await page.Locator("[data-testid='restore-entry'][data-path='docs/adduser'] [data-testid='restore-entry-open']").ClickAsync();
        await page.Locator("[data-testid='restore-entry'][data-path='docs/adduser/examples'] [data-testid='restore-entry-open']").ClickAsync();
        await Expect(page.Locator("[data-testid='restore-entry'][data-path='docs/adduser/examples/Readme.TXT']")).ToBeVisibleAsync();
        await Expect(current).ToHaveTextAsync("examples");
        await browser.ScreenshotAsync("deep-in-a-folder");
        await page.Locator("[data-testid='restore-crumb'][data-path='docs']").ClickAsync();
        await Expect(current).ToHaveTextAsync("docs");
        await Expect(page).ToHaveURLAsync(app.BaseUrl + "/restore");
        await page.GetByTestId("restore-up").ClickAsync();
        await Expect(current).ToHaveTextAsync("share");
        await Expect(page.Locator("[data-testid='restore-entry'][data-path='notes.txt']")).ToBeVisibleAsync();
        await Expect(page).ToHaveURLAsync(app.BaseUrl + "/restore");

        // Search in another case than the file's name.
        await page.FillAsync("#restore-file-search", "Q3.PPTX");
        await page.GetByTestId("restore-file-search-go").ClickAsync();
        await Expect(page.GetByTestId("restore-search-count")).ToContainTextAsync("1 match for “Q3.PPTX”");
        await browser.ScreenshotAsync("found-in-any-case");
        await page.Locator("[data-testid='restore-entry'][data-path='slides/q3.pptx'] input[type='checkbox']").CheckAsync();
        await page.GetByTestId("restore-next").ClickAsync();
        await Expect(page.GetByTestId("restore-next")).ToHaveTextAsync("Review");
        await page.GetByTestId("restore-next").ClickAsync(); // original location, keeping the file there and saving a copy
        await Expect(page.GetByTestId("restore-summary")).ToContainTextAsync("saved next to them as copies");
        await Expect(page.GetByTestId("restore-start")).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Enter"); // started from the keyboard

        await Expect(page.GetByTestId("job-status")).ToHaveTextAsync("Completed", new() { Timeout = 60_000 });
        var copy = Assert.Single(Directory.GetFiles(Path.Combine(source, "slides"), "* Copy of q3.pptx"));
        Assert.Equal("quarter three", File.ReadAllText(copy));
        await Expect(page.GetByTestId("job-message")).ToContainTextAsync($"Restored 1 file (13 B) to {source}, 1 of them as a copy next to the file already there");
        await Expect(page.GetByTestId("restore-result-destination")).ToHaveTextAsync($"{source}/slides/q3.pptx");
        await Expect(page.GetByTestId("restore-result-copy")).ToHaveTextAsync(copy);
        await Expect(page.GetByTestId("job-amounts")).ToHaveCountAsync(0); // no "0 of 1 files" next to "Restored 1 file"
        await browser.ScreenshotAsync("restored-as-a-copy");

        // A reload keeps the result (it has its own address); opening "Restore files" again starts a new restore.
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex(@"/restore\?job="));
        await page.ReloadAsync();
        await browser.WaitInteractiveAsync();
        await Expect(page.GetByTestId("restore-result-copy")).ToHaveTextAsync(copy);
        await page.Locator("a.mud-nav-link[href='restore']").ClickAsync();
        await Expect(page).ToHaveURLAsync(app.BaseUrl + "/restore");
        await Expect(page.Locator("#restore-item-search")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("job-status")).ToHaveCountAsync(0);
        await browser.ScreenshotAsync("a-new-restore");
    }
}
