using Microsoft.EntityFrameworkCore;
using Bunit;
using MudBlazor;
using Portal.Components.Pages.Items;
using Portal.Features.Identity;
using Portal.Features.Protection;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>The item page offers each role only the actions it may take (the services refuse the rest anyway).</summary>
public sealed class ItemDetailTests : ProtectionComponentTest
{
    public static TheoryData<string> Roles() => [.. PortalRoles.All];

    private IRenderedComponent<MudDialogProvider>? dialogs;

    private static bool Protects(string role) => role is PortalRoles.Contributor or PortalRoles.Operator;

    private async Task<IRenderedComponent<ItemDetail>> OpenAsync(string role, ProtectionState state)
    {
        var item = await SeedItemAsync(await CreateVaultAsync("legal"), "Contracts", state);
        SignIn(TestUsers.WithRoles("Someone", role));
        var page = RenderPage<ItemDetail>(p => p.Add(c => c.Id, item.Id));
        dialogs = Context.Render<MudDialogProvider>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=item-summary]")));
        return page;
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public async Task A_protected_item_offers_back_up_now_and_stop_protection_to_contributors_and_operators_only(string role)
    {
        var page = await OpenAsync(role, ProtectionState.Protected);

        Assert.Equal(Protects(role), page.FindAll("[data-testid=item-backup-now]").Count == 1);
        Assert.Equal(Protects(role), page.FindAll("[data-testid=item-stop]").Count == 1);
        Assert.Empty(page.FindAll("[data-testid=item-resume]"));
        Assert.Empty(page.FindAll("[data-testid=item-undelete]"));
        Assert.Equal("protected", page.Find("[data-testid=item-state]").TextContent);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public async Task A_stopped_item_offers_resume_to_contributors_and_operators_and_deleting_its_data_to_contributors_only(string role)
    {
        var page = await OpenAsync(role, ProtectionState.ProtectionStopped);

        Assert.Equal(Protects(role), page.FindAll("[data-testid=item-resume]").Count == 1);
        Assert.Equal(role == PortalRoles.Contributor, page.FindAll("[data-testid=item-stop]").Count == 1);
        Assert.Empty(page.FindAll("[data-testid=item-backup-now]"));
        Assert.Equal("Protection stopped", page.Find("[data-testid=item-health]").TextContent.Trim());
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public async Task A_soft_deleted_item_shows_its_purge_date_to_everyone_and_offers_undelete_to_contributors_and_operators_only(string role)
    {
        var page = await OpenAsync(role, ProtectionState.SoftDeleted);

        Assert.Contains("purged after", page.Find("[data-testid=item-soft-deleted]").TextContent);
        Assert.Equal(Protects(role), page.FindAll("[data-testid=item-undelete]").Count == 1);
        Assert.Empty(page.FindAll("[data-testid=item-stop]"));
        Assert.Empty(page.FindAll("[data-testid=item-resume]"));
    }

    [Theory]
    [InlineData(PortalRoles.Contributor, true)]
    [InlineData(PortalRoles.Operator, false)]
    public async Task Only_a_contributor_may_choose_to_delete_backup_data_when_stopping_protection(string role, bool mayDelete)
    {
        var page = await OpenAsync(role, ProtectionState.Protected);

        page.Find("[data-testid=item-stop]").Click();

        var dialog = dialogs!;
        dialog.WaitForAssertion(() => Assert.NotEmpty(dialog.FindAll("input[data-testid=stop-delete]")));
        Assert.Equal(mayDelete, !dialog.Find("input[data-testid=stop-delete]").HasAttribute("disabled"));
        Assert.Equal(mayDelete, !dialog.Markup.Contains("Only a Backup.Contributor may delete backup data."));
    }

    [Fact]
    public async Task The_item_shows_its_rpo_against_the_target_and_its_30_day_compliance()
    {
        // Created two days ago, one recovery point 40 h ago: 40 h old against a 1 day target; past target + grace (30 h)
        // for the last 10 of 48 h.
        var item = await SeedItemAsync(await CreateVaultAsync("legal"), "Contracts", ProtectionState.Protected);
        var at = DateTime.UtcNow.AddHours(-40);
        await using (var db = Database.Factory.CreateDbContext())
        {
            db.RecoveryPoints.Add(new RecoveryPoint
            {
                Id = Guid.CreateVersion7(), ItemId = item.Id, VaultId = item.VaultId, SnapshotId = Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N"),
                CreatedAt = at, Bytes = 1000, BytesAdded = 100,
            });
            await db.BackupItems.Where(i => i.Id == item.Id).ExecuteUpdateAsync(x => x
                .SetProperty(i => i.LatestRecoveryPointAt, at).SetProperty(i => i.LastBackupStatus, Portal.Features.Jobs.JobStatus.Completed));
            await db.SaveChangesAsync();
        }

        SignIn(TestUsers.WithRoles("Someone", PortalRoles.Reader));
        var page = RenderPage<ItemDetail>(p => p.Add(c => c.Id, item.Id));
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=item-summary]")));

        var rpo = page.Find("[data-testid=item-rpo]").TextContent;
        Assert.Contains("since the latest point (target 24 hours)", rpo);
        Assert.Matches(@"within target 7\d(\.\d)?% of the last 30 days", rpo);
        Assert.Equal("RPO breached", page.Find("[data-testid=item-health]").TextContent.Trim());
    }
}
