using Microsoft.EntityFrameworkCore;
using Portal.Features.Approvals;
using Portal.Features.Audit;
using Portal.Features.Common;
using Portal.Features.Identity;
using Portal.Features.Policies;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Integration;

/// <summary>
/// Every role × every mutating service operation, called on the services directly (not through the UI):
/// allowed or refused as in the roles table of the README.
/// </summary>
public sealed class RoleMatrixTests : IAsyncLifetime
{
    private readonly TestDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    public static readonly string[] Operations =
    [
        "Vault.Create", "Vault.Update", "Vault.RequestDelete", "Vault.DisableSoftDelete", "Vault.Immutability",
        "Policy.Create", "Policy.Update", "Policy.ReduceRetention", "Policy.Delete",
        "Approval.Approve", "Approval.Reject", "Approval.Cancel", "Audit.Read", "Audit.Export",
    ];

    /// <summary>Who may do what; anything not listed is refused.</summary>
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        [PortalRoles.Contributor] = Operations,
        [PortalRoles.Reader] = ["Audit.Read", "Audit.Export"],
        [PortalRoles.Operator] = [],
        [PortalRoles.RestoreOperator] = [],
    };

    public static TheoryData<string, string, bool> Matrix()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (var role in PortalRoles.All)
            foreach (var operation in Operations)
                data.Add(role, operation, Allowed[role].Contains(operation));
        return data;
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Each_role_may_do_exactly_what_the_table_says(string role, string operation, bool allowed)
    {
        var objectId = Guid.NewGuid().ToString();
        var setup = TestPortal.For(database, TestUsers.WithRoles("Setup", PortalRoles.Contributor));
        var ownRequester = TestPortal.For(database, TestUsers.WithObjectId(objectId, "Caller as contributor", PortalRoles.Contributor));
        var caller = TestPortal.For(database, TestUsers.WithObjectId(objectId, "Caller", role));
        var vault = await setup.Vaults().CreateAsync(new CreateVaultRequest("vault-1", "east"));
        var requester = operation == "Approval.Cancel" ? ownRequester : setup;
        if (operation.StartsWith("Approval.", StringComparison.Ordinal))
            await requester.Vaults().RequestDeleteAsync(vault.Id, vault.Version, "vault-1");
        var requestId = (await setup.Approvals().ListAsync()).FirstOrDefault()?.Id ?? Guid.Empty;
        var policy = (await setup.Policies().ListAsync(vault.Id)).Single();
        var before = await SnapshotAsync();

        Func<Task> call = operation switch
        {
            "Vault.Create" => () => caller.Vaults().CreateAsync(new CreateVaultRequest("vault-2", "east")),
            "Vault.Update" => () => caller.Vaults().UpdateAsync(new UpdateVaultRequest(vault.Id, vault.Version, StorageRedundancy.LRS, true, 30)),
            "Vault.RequestDelete" => () => caller.Vaults().RequestDeleteAsync(vault.Id, vault.Version, "vault-1"),
            "Vault.DisableSoftDelete" => () => caller.Vaults().UpdateAsync(new UpdateVaultRequest(vault.Id, vault.Version, StorageRedundancy.GRS, false, 14)),
            "Vault.Immutability" => () => caller.Vaults().SetImmutabilityAsync(vault.Id, vault.Version, VaultImmutability.Enabled),
            "Policy.Create" => () => caller.Policies().CreateAsync(vault.Id, "Nightly", PolicyDefinition.Default),
            "Policy.Update" => () => caller.Policies().UpdateAsync(policy.Id, policy.Version, PolicyDefinition.Default with { Retention = new(DailyDays: 60) }),
            "Policy.ReduceRetention" => () => caller.Policies().UpdateAsync(policy.Id, policy.Version, PolicyDefinition.Default with { Retention = new(DailyDays: 7) }),
            "Policy.Delete" => () => caller.Policies().DeleteAsync(policy.Id, policy.Version),
            "Approval.Approve" => () => caller.Approvals().ApproveAsync(requestId),
            "Approval.Reject" => () => caller.Approvals().RejectAsync(requestId),
            "Approval.Cancel" => () => caller.Approvals().CancelAsync(requestId),
            "Audit.Read" => () => caller.Audit().QueryAsync(new AuditQuery()),
            "Audit.Export" => () => caller.Audit().ExportCsvAsync(new AuditQuery(), new StringWriter()),
            _ => throw new ArgumentOutOfRangeException(nameof(operation)),
        };

        if (allowed)
        {
            await call();
            if (!operation.StartsWith("Audit.", StringComparison.Ordinal))
                Assert.NotEqual(before, await SnapshotAsync());
        }
        else
        {
            var refusal = await Assert.ThrowsAsync<PortalAccessDeniedException>(call);
            Assert.Contains("role", refusal.Message);
            Assert.Equal(before, await SnapshotAsync());
        }
    }

    /// <summary>Everything an operation could change, except the audit log itself.</summary>
    private async Task<string> SnapshotAsync()
    {
        await using var db = database.Factory.CreateDbContext();
        var vaults = await db.Vaults.OrderBy(v => v.Name).Select(v => $"{v.Name}:{v.Redundancy}:{v.SoftDeleteEnabled}:{v.SoftDeleteRetentionDays}:{v.Immutability}").ToListAsync();
        var requests = await db.ApprovalRequests.OrderBy(r => r.RequestedAt).Select(r => $"{r.Operation}:{r.Status}").ToListAsync();
        var policies = await db.BackupPolicies.OrderBy(p => p.Name).Select(p => $"{p.Name}:{p.Definition}").ToListAsync();
        return string.Join("|", vaults) + "#" + string.Join("|", requests) + "#" + string.Join("|", policies);
    }
}
