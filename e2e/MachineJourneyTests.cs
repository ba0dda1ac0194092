using System.Text.Json;
using Microsoft.Playwright;
using Portal.Engine.Agents;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E;

/// <summary>An operator adds a machine to a vault in Chromium: the credentials file is a real browser download.</summary>
public sealed class MachineJourneyTests
{
    [Fact]
    public async Task An_operator_downloads_a_machines_credentials_file_from_the_vault_page_and_sees_it_waiting()
    {
        await using var app = new PortalApp();
        await using var browser = await Browser.StartAsync("machine-journey");
        var page = browser.Page;
        await browser.SignInLocallyAsync(app.BaseUrl, "Erin Operator", "/vaults");
        await browser.WaitInteractiveAsync();
        await page.GetByTestId("create-vault").ClickAsync();
        await page.FillAsync("#vault-name", "Estate");
        await page.GetByTestId("create-vault-submit").ClickAsync();
        await Expect(page).ToHaveURLAsync(app.BaseUrl + "/vaults/Estate");
        await browser.WaitInteractiveAsync();

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
}
