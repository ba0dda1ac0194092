using System.Text.RegularExpressions;
using Npgsql;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E;

/// <summary>A contributor protects a PostgreSQL database, backs it up now, and restores it to a new name, in Chromium.</summary>
public sealed class DatabaseJourneyTests
{
    private const string Passphrase = "correct horse battery staple 42!";

    private static async Task<T> ScalarAsync<T>(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(TestEnvironment.ConnectionString(database)) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private const string Fingerprint = "SELECT count(*) || ':' || md5(string_agg(o::text, ',' ORDER BY id)) FROM orders o";

    [Fact]
    public async Task A_contributor_protects_a_database_backs_it_up_now_and_restores_it_to_a_new_name()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var (shop, copy) = ($"shop_{suffix}", $"shop_copy_{suffix}");
        var server = new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresServer);
        await ScalarAsync<int>("postgres", $"CREATE DATABASE \"{shop}\"; SELECT 1");
        try
        {
            await ScalarAsync<int>(shop, """
                CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL, amount numeric(12,2) NOT NULL);
                INSERT INTO orders SELECT i, 'customer ' || (i % 97), (i * 7919 % 100003) / 100.0 FROM generate_series(1, 5000) AS i;
                SELECT 1
                """);
            var original = await ScalarAsync<string>(shop, Fingerprint);

            await using var app = new PortalApp();
            await using var browser = await Browser.StartAsync("database-journey");
            var page = browser.Page;

            // A vault, then "Protect a database" on its page.
            await browser.SignInLocallyAsync(app.BaseUrl, "Carla Contributor", "/vaults");
            await browser.WaitInteractiveAsync();
            await browser.CreateVaultAsync(app.BaseUrl, "sales");
            await page.GetByTestId("protect-database").ClickAsync();
            await Expect(page).ToHaveURLAsync(app.BaseUrl + "/vaults/sales/protect?kind=database");
            await browser.WaitInteractiveAsync();

            await page.FillAsync("#item-name", "Shop database");
            await page.FillAsync("#db-host", server.Host!);
            await page.FillAsync("#db-port", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await page.FillAsync("#db-name", shop);
            await page.FillAsync("#db-user", server.Username!);
            await page.FillAsync("#db-password", "not-shown-again");
            await page.FillAsync("#item-passphrase", Passphrase);
            await page.FillAsync("#item-confirm-passphrase", Passphrase);
            await browser.ScreenshotAsync("protect-a-database");
            await page.GetByTestId("protect-submit").ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/items/[0-9a-f-]{36}$"));
            await browser.WaitInteractiveAsync();
            await Expect(page.GetByTestId("item-database")).ToContainTextAsync(shop);
            await browser.ScreenshotAsync("database-protected");

            // Back up now: the job completes live and its recovery point is application-consistent.
            await page.GetByTestId("item-backup-now").ClickAsync();
            await page.GetByTestId("backup-now-submit").ClickAsync();
            await Expect(page.GetByTestId("job-status")).ToHaveTextAsync("Completed", new() { Timeout = 60_000 });
            await Expect(page.GetByTestId("job-message")).ToContainTextAsync("application-consistent");
            await Expect(page.GetByTestId("recovery-points")).ToContainTextAsync("Application consistent");
            await browser.ScreenshotAsync("database-backed-up");

            // Restore the point to a new database name and watch it finish.
            await page.GetByTestId("item-restore-database").ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/items/[0-9a-f-]{36}/restore-database$"));
            await browser.WaitInteractiveAsync();
            await page.FillAsync("#db-restore-name", shop); // exists: refused at the field
            await page.GetByTestId("db-restore-start").ClickAsync();
            await Expect(page.GetByTestId("db-restore-form")).ToContainTextAsync("already exists");
            await page.FillAsync("#db-restore-name", copy);
            await browser.ScreenshotAsync("restore-to-a-new-name");
            await page.GetByTestId("db-restore-start").ClickAsync();
            await Expect(page.GetByTestId("job-status")).ToHaveTextAsync("Completed", new() { Timeout = 60_000 });
            await Expect(page.GetByTestId("job-message")).ToContainTextAsync($"to the new database {copy}");
            await browser.ScreenshotAsync("database-restored");

            Assert.Equal(original, await ScalarAsync<string>(copy, Fingerprint));
        }
        finally
        {
            await TestEnvironment.DropDatabaseAsync(copy);
            await TestEnvironment.DropDatabaseAsync(shop);
        }
    }
}
