using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Portal.Features.Common;
using Portal.Features.Identity;
using Portal.Features.Protection;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Integration;

/// <summary>Vault rules on a real PostgreSQL: uniqueness, the redundancy lock, delete rules, concurrency, roles.</summary>
public sealed class VaultServiceTests : IAsyncLifetime
{
    private readonly TestDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    private VaultService ServiceFor(ClaimsPrincipal user) => TestPortal.For(database, user).Vaults();

    private VaultService Contributor(string name = "Ann") => ServiceFor(TestUsers.WithRoles(name, PortalRoles.Contributor));

    private async Task<int> VaultRowsAsync()
    {
        await using var db = database.Factory.CreateDbContext();
        return await db.Vaults.CountAsync();
    }

    private async Task AddItemAsync(Guid vaultId, ProtectionState state, DateTime? softDeletedAt = null)
    {
        await using var db = database.Factory.CreateDbContext();
        db.BackupItems.Add(new BackupItem
        {
            Id = Guid.NewGuid(), VaultId = vaultId, Name = "/srv/share-" + Guid.NewGuid().ToString("N")[..6], State = state,
            CreatedAt = DateTime.UtcNow, SoftDeletedAt = softDeletedAt,
        });
        await db.SaveChangesAsync();
    }

    [Fact]
    public async Task Create_uses_Azure_defaults_GRS_and_14_days_of_soft_delete()
    {
        var vault = await Contributor().CreateAsync(new CreateVaultRequest("finance-vault", "east"));

        Assert.Equal("finance-vault", vault.Name);
        Assert.Equal(StorageRedundancy.GRS, vault.Redundancy);
        Assert.Equal("west", vault.PairedRegion);
        Assert.True(vault.SoftDeleteEnabled);
        Assert.Equal(14, vault.SoftDeleteRetentionDays);
        Assert.Equal("Ann", vault.CreatedBy);
        Assert.Equal(DateTimeKind.Utc, vault.CreatedAt.Kind);
    }

    [Fact]
    public async Task A_name_that_differs_only_in_case_is_refused_at_the_name_field_and_nothing_is_saved()
    {
        var vaults = Contributor();
        await vaults.CreateAsync(new CreateVaultRequest("Finance", "east"));

        var error = await Assert.ThrowsAsync<PortalValidationException>(() => vaults.CreateAsync(new CreateVaultRequest("FINANCE", "west")));

        Assert.Contains("already exists", error.Errors[nameof(CreateVaultRequest.Name)]);
        Assert.Equal(1, await VaultRowsAsync());
    }

    [Fact]
    public async Task Two_people_creating_the_same_name_at_once_get_one_vault_and_one_clear_error()
    {
        var first = Contributor("Ann").CreateAsync(new CreateVaultRequest("payroll", "east"));
        var second = Contributor("Bob").CreateAsync(new CreateVaultRequest("PAYROLL", "east"));

        var outcomes = await Task.WhenAll(Capture(first), Capture(second));

        Assert.Single(outcomes, o => o is null);
        var error = Assert.IsType<PortalValidationException>(Assert.Single(outcomes, o => o is not null));
        Assert.Contains("already exists", error.Errors[nameof(CreateVaultRequest.Name)]);
        Assert.Equal(1, await VaultRowsAsync());
    }

    [Theory]
    [InlineData("", "Enter a vault name")]
    [InlineData("a", "2 to 50 characters")]
    [InlineData("9lives", "starts with a letter")]
    [InlineData("-dash", "starts with a letter")]
    [InlineData("has space", "letters, digits and hyphens")]
    [InlineData("under_score", "letters, digits and hyphens")]
    [InlineData("ünïcode", "only the letters A to Z (no accents or other alphabets), digits and hyphens: \"ü\" is not one of them")] // regression (issue 25): "été" was "not starting with a letter"
    [InlineData("été", "\"é\" is not one of them")]
    [InlineData("a12345678901234567890123456789012345678901234567890", "2 to 50 characters")]
    public async Task Invalid_names_are_refused_with_the_rule_they_break(string name, string expected)
    {
        var error = await Assert.ThrowsAsync<PortalValidationException>(() => Contributor().CreateAsync(new CreateVaultRequest(name, "east")));

        Assert.Contains(expected, error.Errors[nameof(CreateVaultRequest.Name)]);
        Assert.Equal(0, await VaultRowsAsync());
    }

    [Fact]
    public async Task An_unknown_region_is_refused_with_the_regions_there_are()
    {
        var error = await Assert.ThrowsAsync<PortalValidationException>(() => Contributor().CreateAsync(new CreateVaultRequest("v1", "mars")));

        Assert.Contains("east, west, central", error.Errors[nameof(CreateVaultRequest.Region)]);
        Assert.Equal(0, await VaultRowsAsync());
    }

    [Fact]
    public async Task GRS_in_a_region_without_a_pair_is_refused_and_LRS_is_accepted()
    {
        var vaults = Contributor();
        var error = await Assert.ThrowsAsync<PortalValidationException>(() =>
            vaults.CreateAsync(new CreateVaultRequest("v1", "central", StorageRedundancy.GRS)));
        Assert.Contains("no paired region", error.Errors[nameof(CreateVaultRequest.Redundancy)]);

        var lrs = await vaults.CreateAsync(new CreateVaultRequest("v1", "central", StorageRedundancy.LRS));
        Assert.Equal(StorageRedundancy.LRS, lrs.Redundancy);
    }

    [Fact]
    public async Task Redundancy_changes_freely_without_items_and_with_items_GRS_to_LRS_needs_the_typed_vault_name_and_a_second_contributor()
    {
        var vaults = Contributor();
        var vault = await vaults.CreateAsync(new CreateVaultRequest("v1", "east"));

        vault = (await vaults.UpdateAsync(new UpdateVaultRequest(vault.Id, vault.Version, StorageRedundancy.LRS, true, 14))).Vault;
        Assert.Equal(StorageRedundancy.LRS, vault.Redundancy);

        // With an item: LRS → GRS is allowed (replication copies the existing data) …
        await AddItemAsync(vault.Id, ProtectionState.Protected);
        vault = (await vaults.GetAsync("v1"))!;
        vault = (await vaults.UpdateAsync(new UpdateVaultRequest(vault.Id, vault.Version, StorageRedundancy.GRS, true, 14))).Vault;
        Assert.Equal(StorageRedundancy.GRS, vault.Redundancy);

        // … and GRS → LRS removes the pair's copy, so it asks for the vault's name.
        var error = await Assert.ThrowsAsync<PortalValidationException>(() =>
            vaults.UpdateAsync(new UpdateVaultRequest(vault.Id, vault.Version, StorageRedundancy.LRS, true, 14, "v2")));
        Assert.Contains("removes this vault's copy in west", error.Errors[nameof(UpdateVaultRequest.ConfirmRemoveSecondary)]);
        Assert.Contains("Type the vault name (v1)", error.Errors[nameof(UpdateVaultRequest.ConfirmRemoveSecondary)]);
        Assert.Equal(StorageRedundancy.GRS, (await vaults.GetAsync("v1"))!.Redundancy);

        var asked = await vaults.UpdateAsync(new UpdateVaultRequest(vault.Id, vault.Version, StorageRedundancy.LRS, true, 14, "v1"));
        Assert.True(asked.ApprovalRequested);
        Assert.Equal(StorageRedundancy.GRS, asked.Vault.Redundancy); // the pair's copy stays until another contributor approves
        var bob = TestPortal.For(database, TestUsers.WithRoles("Bob", PortalRoles.Contributor));
        var request = Assert.Single(await bob.Approvals().ListAsync());
        Assert.Contains("Change vault v1 from GRS to LRS: its copy in west is deleted", request.Summary);
        await bob.Approvals().ApproveAsync(request.Id);
        Assert.Equal(StorageRedundancy.LRS, (await vaults.GetAsync("v1"))!.Redundancy);
    }

    [Fact]
    public async Task The_second_of_two_concurrent_edits_is_told_the_vault_changed_and_overwrites_nothing()
    {
        var ann = Contributor("Ann");
        var bob = Contributor("Bob");
        var created = await ann.CreateAsync(new CreateVaultRequest("shared", "east"));
        var seenByAnn = (await ann.GetAsync("shared"))!;
        var seenByBob = (await bob.GetAsync("shared"))!;

        await ann.UpdateAsync(new UpdateVaultRequest(seenByAnn.Id, seenByAnn.Version, StorageRedundancy.GRS, true, 30));
        var conflict = await Assert.ThrowsAsync<PortalConflictException>(() =>
            bob.UpdateAsync(new UpdateVaultRequest(seenByBob.Id, seenByBob.Version, StorageRedundancy.LRS, true, 60)));

        Assert.Contains("was changed by Ann", conflict.Message);
        var now = (await ann.GetAsync("shared"))!;
        Assert.Equal(30, now.SoftDeleteRetentionDays);
        Assert.Equal(StorageRedundancy.GRS, now.Redundancy);
        Assert.NotEqual(created.Version, now.Version);
    }

    [Fact]
    public async Task Soft_delete_days_outside_14_to_180_are_refused()
    {
        var vaults = Contributor();
        var vault = await vaults.CreateAsync(new CreateVaultRequest("v1", "east"));

        var error = await Assert.ThrowsAsync<PortalValidationException>(() =>
            vaults.UpdateAsync(new UpdateVaultRequest(vault.Id, vault.Version, StorageRedundancy.GRS, true, 7)));

        Assert.Contains("14 to 180 days", error.Errors[nameof(UpdateVaultRequest.SoftDeleteRetentionDays)]);
        Assert.Equal(14, (await vaults.GetAsync("v1"))!.SoftDeleteRetentionDays);
    }

    [Fact]
    public async Task Delete_needs_the_name_typed_exactly()
    {
        var vaults = Contributor();
        var vault = await vaults.CreateAsync(new CreateVaultRequest("Keep-Me", "east"));

        var error = await Assert.ThrowsAsync<PortalValidationException>(() => vaults.RequestDeleteAsync(vault.Id, vault.Version, "keep-me"));

        Assert.Contains("Keep-Me", error.Errors["ConfirmName"]);
        Assert.Equal(1, await VaultRowsAsync());
    }

    [Fact]
    public async Task A_vault_with_backup_items_is_not_deleted()
    {
        var vaults = Contributor();
        var vault = await vaults.CreateAsync(new CreateVaultRequest("v1", "east"));
        await AddItemAsync(vault.Id, ProtectionState.ProtectionStopped);

        var error = await Assert.ThrowsAsync<PortalConflictException>(() => vaults.RequestDeleteAsync(vault.Id, vault.Version, "v1"));

        Assert.Contains("still holds 1 backup item", error.Message);
        Assert.Equal(1, await VaultRowsAsync());
    }

    [Fact]
    public async Task A_vault_with_soft_deleted_data_is_not_deleted_and_the_purge_date_is_named()
    {
        var vaults = Contributor();
        var vault = await vaults.CreateAsync(new CreateVaultRequest("v1", "east"));
        await AddItemAsync(vault.Id, ProtectionState.SoftDeleted, new DateTime(2026, 11, 20, 8, 0, 0, DateTimeKind.Utc));

        var error = await Assert.ThrowsAsync<PortalConflictException>(() => vaults.RequestDeleteAsync(vault.Id, vault.Version, "v1"));

        Assert.Contains("soft-deleted backup data of 1 item", error.Message);
        Assert.Contains("2026-12-04 08:00", error.Message);
        Assert.Equal(1, await VaultRowsAsync());
    }

    [Fact]
    public async Task Deleting_a_vault_with_a_stale_version_is_refused()
    {
        var vaults = Contributor();
        var vault = await vaults.CreateAsync(new CreateVaultRequest("v1", "east"));
        await vaults.UpdateAsync(new UpdateVaultRequest(vault.Id, vault.Version, StorageRedundancy.LRS, true, 14));

        var error = await Assert.ThrowsAsync<PortalConflictException>(() => vaults.RequestDeleteAsync(vault.Id, vault.Version, "v1"));

        Assert.Contains("was changed by Ann", error.Message);
        await using var db = database.Factory.CreateDbContext();
        Assert.Equal(0, await db.ApprovalRequests.CountAsync());
    }

    [Fact]
    public async Task List_pages_sorts_and_searches_on_the_server()
    {
        var vaults = Contributor();
        foreach (var i in Enumerable.Range(1, 12))
            await vaults.CreateAsync(new CreateVaultRequest($"vault-{i:00}", i % 2 == 0 ? "east" : "central", StorageRedundancy.LRS));
        await vaults.CreateAsync(new CreateVaultRequest("other", "west"));

        var page2 = await vaults.ListAsync(new VaultQuery(PageIndex: 1, PageSize: 5));
        Assert.Equal(13, page2.TotalCount);
        Assert.Equal(["vault-05", "vault-06", "vault-07", "vault-08", "vault-09"], page2.Items.Select(v => v.Name));

        var descending = await vaults.ListAsync(new VaultQuery(PageSize: 2, SortBy: VaultSortColumn.Name, Direction: SortDirection.Descending));
        Assert.Equal(["vault-12", "vault-11"], descending.Items.Select(v => v.Name));

        var search = await vaults.ListAsync(new VaultQuery(Search: "VAULT-1"));
        Assert.Equal(["vault-10", "vault-11", "vault-12"], search.Items.Select(v => v.Name));

        var wildcard = await vaults.ListAsync(new VaultQuery(Search: "%"));
        Assert.Equal(0, wildcard.TotalCount);
    }

    [Fact]
    public async Task Readers_and_help_desk_see_vaults_but_only_contributors_change_them()
    {
        var vault = await Contributor().CreateAsync(new CreateVaultRequest("v1", "east"));
        foreach (var role in new[] { PortalRoles.Reader, PortalRoles.Operator, PortalRoles.RestoreOperator })
        {
            var service = ServiceFor(TestUsers.WithRoles("Eve", role));
            Assert.Equal(1, (await service.ListAsync(new VaultQuery())).TotalCount);
            await Assert.ThrowsAsync<PortalAccessDeniedException>(() => service.CreateAsync(new CreateVaultRequest("v2", "east")));
            await Assert.ThrowsAsync<PortalAccessDeniedException>(() =>
                service.UpdateAsync(new UpdateVaultRequest(vault.Id, vault.Version, StorageRedundancy.LRS, true, 14)));
            await Assert.ThrowsAsync<PortalAccessDeniedException>(() => service.RequestDeleteAsync(vault.Id, vault.Version, "v1"));
        }

        var anonymous = ServiceFor(TestUsers.Anonymous);
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => anonymous.ListAsync(new VaultQuery()));
        Assert.Equal(1, await VaultRowsAsync());
    }

    private static async Task<Exception?> Capture(Task task)
    {
        try
        {
            await task;
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }
}
