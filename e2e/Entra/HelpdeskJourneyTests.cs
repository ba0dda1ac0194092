using Microsoft.Playwright;
using Npgsql;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Entra;

/// <summary>A help-desk user signs in through the provider's page in Chromium and finds no way to delete a vault.</summary>
public sealed class HelpdeskJourneyTests(EntraFixture fixture) : IClassFixture<EntraFixture>
{
    [Fact]
    public async Task A_restore_operator_signs_in_with_Entra_and_cannot_reach_vault_deletion()
    {
        var app = fixture.App;
        var hana = EntraFixture.Users[3];
        await ArrangeVaultWithPendingDeletionAsync(app.ConnectionString);
        await using var browser = await Browser.StartAsync("helpdesk-entra", ignoreHttpsErrors: true);
        var page = browser.Page;

        await page.GotoAsync(app.BaseUrl + "/vaults/payroll");
        await Expect(page.Locator("#signin")).ToBeVisibleAsync();
        await page.FillAsync("#username", hana.Username);
        await page.FillAsync("#password", hana.Password);
        await browser.ScreenshotAsync("provider-sign-in");
        await page.ClickAsync("#signin");

        await Expect(page).ToHaveURLAsync(app.BaseUrl + "/vaults/payroll");
        await browser.WaitInteractiveAsync();
        await Expect(page.GetByTestId("user-name")).ToHaveTextAsync("Hana Helpdesk");
        await Expect(page.GetByTestId("vault-overview")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("vault-pending-approval")).ToContainTextAsync("Delete vault payroll");
        await Expect(page.GetByTestId("vault-delete")).ToHaveCountAsync(0);
        await browser.ScreenshotAsync("vault-without-delete");

        await page.GotoAsync(app.BaseUrl + "/approvals");
        await browser.WaitInteractiveAsync();
        await Expect(page.GetByTestId("approval-status")).ToContainTextAsync("Waiting for approval");
        await Expect(page.GetByTestId("approval-approve")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("approval-cancel")).ToHaveCountAsync(0);
        await browser.ScreenshotAsync("approvals-without-actions");
    }

    private static async Task ArrangeVaultWithPendingDeletionAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            INSERT INTO vaults ("Id", "Name", "NormalizedName", "Region", "Redundancy", "SoftDeleteEnabled", "SoftDeleteRetentionDays", "CreatedAt", "CreatedBy", "UpdatedAt", "UpdatedBy")
            VALUES (@id, 'payroll', 'PAYROLL', 'east', 'GRS', true, 14, now(), 'Carla Contributor', now(), 'Carla Contributor');
            INSERT INTO approval_requests ("Id", "Operation", "ResourceId", "Resource", "Summary", "RequestedByObjectId", "RequestedByName", "RequestedAt", "ExpiresAt", "Status")
            VALUES (gen_random_uuid(), 'DeleteVault', @id, 'vault/payroll', 'Delete vault payroll (east, GRS).', 'someone', 'Carla Contributor', now(), now() + interval '24 hours', 'Pending');
            """, connection);
        command.Parameters.AddWithValue("id", Guid.NewGuid());
        await command.ExecuteNonQueryAsync();
    }
}
