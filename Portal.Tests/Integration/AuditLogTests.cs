using Microsoft.EntityFrameworkCore;
using Npgsql;
using Portal.Features.Audit;
using Portal.Features.Common;
using Portal.Features.Identity;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Integration;

public sealed class AuditLogTests : IAsyncLifetime
{
    private readonly TestDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    private IServiceProvider As(string name, string role) => TestPortal.For(database, TestUsers.WithRoles(name, role));

    [Fact]
    public async Task Changes_and_refused_authorizations_are_logged_with_who_what_and_why_and_bad_input_is_not()
    {
        await As("Ann", PortalRoles.Contributor).Vaults().CreateAsync(new CreateVaultRequest("finance", "east"));
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() =>
            As("Rita", PortalRoles.Reader).Vaults().CreateAsync(new CreateVaultRequest("rogue", "east")));
        // Regression (issue 25): the log filled with "Refused" rows from form typos. Bad input is shown at its field only.
        await Assert.ThrowsAsync<PortalValidationException>(() =>
            As("Ann", PortalRoles.Contributor).Vaults().CreateAsync(new CreateVaultRequest("Finance", "east")));
        await Assert.ThrowsAsync<PortalValidationException>(() =>
            As("Ann", PortalRoles.Contributor).Vaults().CreateAsync(new CreateVaultRequest("été", "east")));

        var log = (await As("Rita", PortalRoles.Reader).Audit().QueryAsync(new AuditQuery())).Items;

        Assert.Collection(log,
            a => Assert.Equal(("Rita", AuditActions.VaultCreate, "vault/rogue", AuditOutcome.Refused), (a.ActorName, a.Action, a.Resource, a.Outcome)),
            a => Assert.Equal(("Ann", AuditActions.VaultCreate, "vault/finance", AuditOutcome.Succeeded), (a.ActorName, a.Action, a.Resource, a.Outcome)));
        Assert.Contains("needs the Backup.Contributor role", log[0].Detail);
        Assert.All(log, a => Assert.Equal(DateTimeKind.Utc, a.At.Kind));
    }

    [Fact]
    public async Task The_database_refuses_to_change_or_delete_audit_rows()
    {
        await As("Ann", PortalRoles.Contributor).Vaults().CreateAsync(new CreateVaultRequest("finance", "east"));
        await using var db = database.Factory.CreateDbContext();

        var update = await Assert.ThrowsAsync<PostgresException>(() => db.Database.ExecuteSqlRawAsync("UPDATE audit_entries SET \"ActorName\" = 'Mallory'"));
        var delete = await Assert.ThrowsAsync<PostgresException>(() => db.Database.ExecuteSqlRawAsync("DELETE FROM audit_entries"));

        Assert.Contains("append-only", update.MessageText);
        Assert.Contains("append-only", delete.MessageText);
        Assert.Equal("Ann", (await db.AuditEntries.SingleAsync()).ActorName);
    }

    [Fact]
    public async Task The_CSV_export_has_every_matching_row_quotes_what_needs_it_and_is_audited_itself()
    {
        var ann = As("Ann, \"the boss\"", PortalRoles.Contributor);
        await ann.Vaults().CreateAsync(new CreateVaultRequest("finance", "east"));
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => As("Rita, \"the reader\"", PortalRoles.Reader).Vaults().CreateAsync(new CreateVaultRequest("=cmd", "east")));

        var csv = new StringWriter();
        await ann.Audit().ExportCsvAsync(new AuditQuery(Action: "Vault."), csv);
        var lines = csv.ToString().TrimEnd().Split('\n');

        Assert.Equal("time_utc,actor_object_id,actor,action,resource,outcome,detail", lines[0].TrimEnd('\r'));
        Assert.Equal(3, lines.Length);
        Assert.Contains(",\"Rita, \"\"the reader\"\"\",Vault.Create,vault/=cmd,Refused,", lines[1]);
        Assert.Contains(",Vault.Create,vault/finance,Succeeded,\"east, GRS\"", lines[2]);
        var exported = (await ann.Audit().QueryAsync(new AuditQuery(Action: AuditActions.AuditExport))).Items;
        Assert.Single(exported);
    }

    [Fact]
    public async Task CSV_cells_that_a_spreadsheet_would_run_as_formulas_are_defused()
    {
        var ann = As("=HYPERLINK(\"x\")", PortalRoles.Contributor);
        await ann.Vaults().CreateAsync(new CreateVaultRequest("finance", "east"));

        var csv = new StringWriter();
        await ann.Audit().ExportCsvAsync(new AuditQuery(Action: AuditActions.VaultCreate), csv);

        Assert.Contains(",\"'=HYPERLINK(\"\"x\"\")\",", csv.ToString());
    }

    [Fact]
    public async Task Only_contributors_and_readers_read_the_audit_log()
    {
        foreach (var role in new[] { PortalRoles.Operator, PortalRoles.RestoreOperator })
        {
            await Assert.ThrowsAsync<PortalAccessDeniedException>(() => As("Olaf", role).Audit().QueryAsync(new AuditQuery()));
            await Assert.ThrowsAsync<PortalAccessDeniedException>(() => As("Olaf", role).Audit().ExportCsvAsync(new AuditQuery(), new StringWriter()));
        }
    }

    [Fact]
    public async Task Filters_narrow_by_time_actor_action_and_outcome()
    {
        await As("Ann", PortalRoles.Contributor).Vaults().CreateAsync(new CreateVaultRequest("finance", "east"));
        await As("Bob", PortalRoles.Contributor).Vaults().CreateAsync(new CreateVaultRequest("hr", "east"));
        await Assert.ThrowsAsync<PortalAccessDeniedException>(() => As("Rita", PortalRoles.Reader).Vaults().CreateAsync(new CreateVaultRequest("x", "east")));
        var audit = As("Rita", PortalRoles.Reader).Audit();

        Assert.Equal(["Bob"], (await audit.QueryAsync(new AuditQuery(Actor: "bo"))).Items.Select(a => a.ActorName));
        Assert.Equal(["Rita"], (await audit.QueryAsync(new AuditQuery(Outcome: AuditOutcome.Refused))).Items.Select(a => a.ActorName));
        Assert.Equal(0, (await audit.QueryAsync(new AuditQuery(FromUtc: DateTime.UtcNow.AddHours(1)))).TotalCount);
        Assert.Equal(3, (await audit.QueryAsync(new AuditQuery(ToUtc: DateTime.UtcNow.AddHours(1), Action: "Vault.Create"))).TotalCount);
    }
}
