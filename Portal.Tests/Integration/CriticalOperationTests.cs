using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using Portal.Features.Approvals;
using Portal.Features.Audit;
using Portal.Features.Common;
using Portal.Features.Identity;
using Portal.Features.Protection;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Integration;

/// <summary>Deleting a vault and turning soft delete off need a second Backup.Contributor (multi-user authorization).</summary>
public sealed class CriticalOperationTests : IAsyncLifetime
{
    private readonly TestDatabase database = new();
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2026, 11, 25, 9, 0, 0, TimeSpan.Zero));
    private readonly System.Security.Claims.ClaimsPrincipal ann = TestUsers.WithRoles("Ann", PortalRoles.Contributor);
    private readonly System.Security.Claims.ClaimsPrincipal bob = TestUsers.WithRoles("Bob", PortalRoles.Contributor);

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    private IServiceProvider As(System.Security.Claims.ClaimsPrincipal user) => TestPortal.For(database, user, clock);

    private async Task<VaultDetails> CreateVaultAsync(string name = "finance") =>
        await As(ann).Vaults().CreateAsync(new CreateVaultRequest(name, "east"));

    private async Task<ApprovalRequest> OnlyPendingAsync() =>
        Assert.Single(await As(ann).Approvals().ListAsync(), r => r.StatusAt(clock.GetUtcNow().UtcDateTime) == ApprovalStatus.Pending);

    [Fact]
    public async Task A_vault_is_deleted_only_when_a_second_contributor_approves_and_the_audit_log_names_both()
    {
        var vault = await CreateVaultAsync();

        await As(ann).Vaults().RequestDeleteAsync(vault.Id, vault.Version, "finance");
        Assert.NotNull(await As(ann).Vaults().GetAsync("finance"));
        var request = await OnlyPendingAsync();
        Assert.Equal(("Ann", clock.GetUtcNow().UtcDateTime.AddHours(24)), (request.RequestedByName, request.ExpiresAt));

        var selfApproval = await Assert.ThrowsAsync<PortalConflictException>(() => As(ann).Approvals().ApproveAsync(request.Id));
        Assert.Contains("another Backup.Contributor must approve it", selfApproval.Message);
        Assert.NotNull(await As(ann).Vaults().GetAsync("finance"));

        await As(bob).Approvals().ApproveAsync(request.Id);

        Assert.Null(await As(ann).Vaults().GetAsync("finance"));
        var decided = Assert.Single(await As(ann).Approvals().ListAsync());
        Assert.Equal((ApprovalStatus.Approved, "Bob"), (decided.Status, decided.DecidedByName));
        var log = (await As(ann).Audit().QueryAsync(new AuditQuery())).Items;
        var deletion = Assert.Single(log, a => a.Action == AuditActions.VaultDelete);
        Assert.Equal(("Bob", "vault/finance", AuditOutcome.Succeeded), (deletion.ActorName, deletion.Resource, deletion.Outcome));
        Assert.Contains("Requested by Ann, approved by Bob", deletion.Detail);
        Assert.Single(log, a => a.Action == AuditActions.VaultDeleteRequest && a.ActorName == "Ann");
        Assert.Single(log, a => a.Action == AuditActions.ApprovalApprove && a.ActorName == "Ann" && a.Outcome == AuditOutcome.Refused);
    }

    [Fact]
    public async Task A_request_expires_after_24_hours_and_can_no_longer_be_approved()
    {
        var vault = await CreateVaultAsync();
        await As(ann).Vaults().RequestDeleteAsync(vault.Id, vault.Version, "finance");
        var request = await OnlyPendingAsync();

        clock.Advance(TimeSpan.FromHours(24));

        var error = await Assert.ThrowsAsync<PortalConflictException>(() => As(bob).Approvals().ApproveAsync(request.Id));
        Assert.Contains("expired", error.Message);
        Assert.NotNull(await As(ann).Vaults().GetAsync("finance"));
        Assert.Equal(ApprovalStatus.Expired, Assert.Single(await As(ann).Approvals().ListAsync()).StatusAt(clock.GetUtcNow().UtcDateTime));

        var again = (await As(ann).Vaults().GetAsync("finance"))!;
        await As(ann).Vaults().RequestDeleteAsync(again.Id, again.Version, "finance"); // a new request is possible
    }

    [Fact]
    public async Task A_second_request_for_the_same_deletion_is_refused_while_the_first_waits()
    {
        var vault = await CreateVaultAsync();
        await As(ann).Vaults().RequestDeleteAsync(vault.Id, vault.Version, "finance");

        var error = await Assert.ThrowsAsync<PortalConflictException>(() => As(bob).Vaults().RequestDeleteAsync(vault.Id, vault.Version, "finance"));

        Assert.Contains("Ann already asked for this", error.Message);
    }

    [Fact]
    public async Task Approval_rechecks_the_rules_a_vault_that_gained_an_item_meanwhile_is_not_deleted()
    {
        var vault = await CreateVaultAsync();
        await As(ann).Vaults().RequestDeleteAsync(vault.Id, vault.Version, "finance");
        await using (var db = database.Factory.CreateDbContext())
        {
            db.BackupItems.Add(new BackupItem { Id = Guid.NewGuid(), VaultId = vault.Id, Name = "/srv/finance", CreatedAt = DateTime.UtcNow });
            await db.SaveChangesAsync();
        }

        var pending = await OnlyPendingAsync();
        var error = await Assert.ThrowsAsync<PortalConflictException>(() => As(bob).Approvals().ApproveAsync(pending.Id));

        Assert.Contains("still holds 1 backup item", error.Message);
        Assert.NotNull(await As(ann).Vaults().GetAsync("finance"));
        await OnlyPendingAsync();
    }

    [Fact]
    public async Task Turning_soft_delete_off_waits_for_approval_while_other_changes_apply_at_once()
    {
        var vault = await CreateVaultAsync();

        var result = await As(ann).Vaults().UpdateAsync(new UpdateVaultRequest(vault.Id, vault.Version, StorageRedundancy.GRS, false, 30));

        Assert.True(result.ApprovalRequested);
        Assert.True(result.Vault.SoftDeleteEnabled);
        Assert.Equal(30, result.Vault.SoftDeleteRetentionDays);

        await As(bob).Approvals().ApproveAsync((await OnlyPendingAsync()).Id);

        var after = (await As(ann).Vaults().GetAsync("finance"))!;
        Assert.False(after.SoftDeleteEnabled);
        Assert.Equal("Ann (approved by Bob)", after.UpdatedBy);
    }

    [Fact]
    public async Task A_rejected_request_changes_nothing_and_only_the_requester_may_cancel()
    {
        var vault = await CreateVaultAsync();
        await As(ann).Vaults().RequestDeleteAsync(vault.Id, vault.Version, "finance");
        var request = await OnlyPendingAsync();

        await Assert.ThrowsAsync<PortalConflictException>(() => As(bob).Approvals().CancelAsync(request.Id));
        await Assert.ThrowsAsync<PortalConflictException>(() => As(ann).Approvals().RejectAsync(request.Id));
        await As(bob).Approvals().RejectAsync(request.Id);

        Assert.NotNull(await As(ann).Vaults().GetAsync("finance"));
        var rejected = Assert.Single(await As(ann).Approvals().ListAsync());
        Assert.Equal((ApprovalStatus.Rejected, "Bob"), (rejected.Status, rejected.DecidedByName));
        var late = await Assert.ThrowsAsync<PortalConflictException>(() => As(bob).Approvals().ApproveAsync(request.Id));
        Assert.Contains("already rejected by Bob", late.Message);
    }
}
