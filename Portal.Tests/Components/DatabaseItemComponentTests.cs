using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.EntityFrameworkCore;
using Portal.Components.Pages.Items;
using Portal.Components.Pages.Restore;
using Portal.Features.Identity;
using Portal.Features.Protection;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>The database pages: mistakes shown at their fields with nothing saved, and restore choices by role.</summary>
public sealed class DatabaseItemComponentTests : ProtectionComponentTest
{
    [Fact]
    public async Task A_database_that_cannot_be_used_is_refused_at_its_fields_and_nothing_is_saved()
    {
        await CreateVaultAsync("sales");
        SignIn(TestUsers.WithRoles("Olga", PortalRoles.Operator));
        var navigation = Context.Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>();
        navigation.NavigateTo(navigation.GetUriWithQueryParameter("kind", "database"));
        var page = RenderPage<ConfigureProtection>(p => p.Add(c => c.Vault, "sales"));
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("#db-host")));
        Assert.Empty(page.FindAll("#item-source")); // a database has no folder
        page.Find("#item-name").Input("Shop");
        var server = new Npgsql.NpgsqlConnectionStringBuilder(Environment.GetEnvironmentVariable("PORTAL_TEST_PG"));
        page.Find("#db-host").Input(server.Host!);
        page.Find("#db-port").Input(server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        page.Find("#db-name").Input("shop; drop");
        page.Find("#db-user").Input(server.Username!);
        page.Find("#item-passphrase").Input("Seven-Rivers-Run-North-2026");
        page.Find("#item-confirm-passphrase").Input("Seven-Rivers-Run-North-2026");
        page.Find("[data-testid=protect-submit]").Click();
        page.WaitForAssertion(() => Assert.Contains("is not a database name the portal accepts", page.Markup));

        page.Find("#db-name").Input("no_such_database_here");
        page.Find("[data-testid=protect-submit]").Click();
        page.WaitForAssertion(() => Assert.Contains("The database no_such_database_here does not exist", page.Markup));
        await using var db = Database.Factory.CreateDbContext();
        Assert.Equal(0, await db.BackupItems.CountAsync());
    }

    [Fact]
    public async Task A_restore_operator_is_offered_a_new_database_and_not_the_original()
    {
        var vault = await CreateVaultAsync("sales");
        var item = await SeedItemAsync(vault, "Shop", ProtectionState.Protected);
        await using (var db = Database.Factory.CreateDbContext())
        {
            var row = await db.BackupItems.SingleAsync(i => i.Id == item.Id);
            (row.Kind, row.DatabaseHost, row.DatabasePort, row.DatabaseName, row.DatabaseUser) = (BackupItemKinds.PostgreSql, "db1", 5432, "shop", "backup");
            db.RecoveryPoints.Add(new RecoveryPoint
            {
                Id = Guid.CreateVersion7(), ItemId = item.Id, VaultId = vault.Id, SnapshotId = new string('a', 64), CreatedAt = DateTime.UtcNow.AddHours(-1),
                Type = RecoveryPointType.OnDemand, Consistency = RecoveryPointConsistency.ApplicationConsistent, Files = 1, Bytes = 1000,
            });
            await db.SaveChangesAsync();
        }

        SignIn(TestUsers.WithRoles("Helen", PortalRoles.RestoreOperator));
        var page = RenderPage<RestoreDatabase>(p => p.Add(c => c.Id, item.Id));
        page.WaitForAssertion(() => Assert.Contains("shop on db1:5432 as backup", page.Markup));
        Assert.Contains("Over the original database (needs Backup.Operator or Backup.Contributor)", page.Markup);
        Assert.Equal([false, true], page.FindAll("input[type=radio]").Select(r => r.HasAttribute("disabled")));
        Assert.NotEmpty(page.FindAll("#db-restore-name"));
    }
}
