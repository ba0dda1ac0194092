using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Portal.Engine.Agents;
using Portal.Features.Audit;
using Portal.Features.Common;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Machines;
using Portal.Features.Machines.Administration;
using Portal.Features.Protection;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Machines;

/// <summary>
/// Machine administration on the real database: credentials files (only a hash kept), the machine list with online and
/// offline, items and last backup, revocation, upload limits, and who may do what.
/// </summary>
public sealed class AdminMachineServiceTests : IAsyncLifetime
{
    private static readonly DateTime Start = new(2026, 3, 2, 9, 0, 0, DateTimeKind.Utc);

    private readonly TestDatabase database = new();
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(Start));
    private Guid vaultId;

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        vaultId = (await As("Ann", PortalRoles.Contributor).Vaults().CreateAsync(new CreateVaultRequest("payroll", "east"))).Id;
    }

    public Task DisposeAsync() => database.DisposeAsync();

    private IServiceProvider As(string name, string role, string? publicUrl = null)
    {
        var services = new ServiceCollection().AddFeatureServices(database, clock).AddSingleton<ICurrentUser>(new FixedCurrentUser(TestUsers.WithRoles(name, role)));
        if (publicUrl is not null)
            services.Configure<MachinesOptions>(o => o.PublicUrl = publicUrl);
        return services.BuildServiceProvider();
    }

    private static MachineService Machines(IServiceProvider services) => services.GetRequiredService<MachineService>();

    private async Task<List<AuditEntry>> AuditAsync()
    {
        await using var db = await database.Factory.CreateDbContextAsync();
        return await db.AuditEntries.AsNoTracking().OrderBy(a => a.Id).ToListAsync();
    }

    [Theory]
    [InlineData(PortalRoles.Reader)]
    [InlineData(PortalRoles.RestoreOperator)]
    public async Task Readers_and_restore_operators_see_machines_but_are_refused_every_change_in_words(string role)
    {
        var machine = await database.AddMachineAsync(vaultId, "web01", Start);
        var credential = await Machines(As("Olga", PortalRoles.Operator)).CreateCredentialsAsync(vaultId, "https://backup.example.com/");
        var service = Machines(As("Rita", role));

        Assert.Single(await service.ListAsync(vaultId));
        var refusals = new[]
        {
            await Assert.ThrowsAsync<PortalAccessDeniedException>(() => service.CreateCredentialsAsync(vaultId, "https://backup.example.com/")),
            await Assert.ThrowsAsync<PortalAccessDeniedException>(() => service.RevokeCredentialsAsync(credential.CredentialId)),
            await Assert.ThrowsAsync<PortalAccessDeniedException>(() => service.RevokeMachineAsync(machine.Id)),
            await Assert.ThrowsAsync<PortalAccessDeniedException>(() => service.SetUploadLimitsAsync(machine.Id, 1000, null)),
        };

        Assert.All(refusals, e => Assert.Contains("needs the Backup.Contributor or Backup.Operator role", e.Message));
        Assert.Contains("You can't add machines to a vault", refusals[0].Message);
        Assert.Contains("You can't revoke machines", refusals[2].Message);
        await using var db = await database.Factory.CreateDbContextAsync();
        Assert.Equal(1, await db.MachineCredentials.CountAsync());
        Assert.Null((await db.MachineCredentials.SingleAsync()).RevokedAt);
        Assert.Null((await db.Machines.SingleAsync()).RevokedAt);
        Assert.Equal(4, (await AuditAsync()).Count(a => a.ActorName == "Rita" && a.Outcome == AuditOutcome.Refused));
    }

    [Fact]
    public async Task A_credentials_file_names_the_portal_and_vault_expires_in_10_days_and_the_database_keeps_only_its_hash()
    {
        var download = await Machines(As("Olga", PortalRoles.Operator)).CreateCredentialsAsync(vaultId, "https://backup.example.com/");

        Assert.Equal("payroll-2026-03-02.portalcredentials", download.FileName);
        var file = JsonSerializer.Deserialize<MachineCredentialsFile>(download.Content)!;
        Assert.Equal(file, JsonSerializer.Deserialize<MachineCredentialsFile>(download.Content, JsonSerializerOptions.Web)); // either way an agent reads it
        Assert.Equal(1, file.Version);
        Assert.Equal("https://backup.example.com", file.Portal);
        Assert.Equal((vaultId, "payroll", download.CredentialId), (file.VaultId, file.VaultName, file.CredentialId));
        Assert.Equal(new DateTimeOffset(Start.AddDays(10)), file.ExpiresAt);
        Assert.Equal(32, Base64Url.DecodeFromChars(file.Secret).Length);

        await using var db = await database.Factory.CreateDbContextAsync();
        var stored = await db.MachineCredentials.SingleAsync();
        Assert.Equal((download.CredentialId, vaultId, "Olga", Start, Start.AddDays(10)), (stored.Id, stored.VaultId, stored.CreatedBy, stored.CreatedAt, stored.ExpiresAt));
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(file.Secret)), stored.SecretHash);
        Assert.True(MachineCredentialSecret.Matches(file.Secret, stored.SecretHash));
        var rows = await db.Database.SqlQueryRaw<string>("SELECT row_to_json(c)::text AS \"Value\" FROM machine_credentials c").ToListAsync();
        Assert.DoesNotContain(file.Secret, Assert.Single(rows));
        var audit = Assert.Single(await AuditAsync(), a => a.Action == MachineAuditActions.CreateCredentials);
        Assert.Equal(("Olga", "vault/payroll", AuditOutcome.Succeeded), (audit.ActorName, audit.Resource, audit.Outcome));
        Assert.Contains("Create machine credentials", audit.Detail);
        Assert.All(await AuditAsync(), a => Assert.DoesNotContain(file.Secret, a.Detail + a.Resource));
    }

    [Fact]
    public async Task Each_file_has_its_own_secret_and_the_configured_public_address_wins_over_the_browsers()
    {
        var service = Machines(As("Ann", PortalRoles.Contributor, publicUrl: "https://backup.contoso.com/"));

        var first = JsonSerializer.Deserialize<MachineCredentialsFile>((await service.CreateCredentialsAsync(vaultId, "http://localhost:5000/")).Content)!;
        var second = JsonSerializer.Deserialize<MachineCredentialsFile>((await service.CreateCredentialsAsync(vaultId, "http://localhost:5000/")).Content)!;

        Assert.Equal("https://backup.contoso.com", first.Portal);
        Assert.NotEqual(first.Secret, second.Secret);
        Assert.NotEqual(first.CredentialId, second.CredentialId);
        Assert.Equal(2, (await service.ListCredentialsAsync(vaultId)).Count(c => c.State == MachineCredentialState.Waiting));
    }

    [Fact]
    public async Task A_file_is_refused_in_words_for_a_bad_address_a_vault_that_is_gone_or_a_vault_waiting_to_be_deleted()
    {
        var ann = As("Ann", PortalRoles.Contributor);

        var badAddress = await Assert.ThrowsAsync<PortalValidationException>(() => Machines(ann).CreateCredentialsAsync(vaultId, "backup.example.com"));
        var badSetting = await Assert.ThrowsAsync<PortalValidationException>(() =>
            Machines(As("Ann", PortalRoles.Contributor, publicUrl: "ftp://backup.example.com")).CreateCredentialsAsync(vaultId, "https://ok.example.com/"));
        var gone = await Assert.ThrowsAsync<PortalNotFoundException>(() => Machines(ann).CreateCredentialsAsync(Guid.NewGuid(), "https://backup.example.com/"));
        var vault = (await ann.Vaults().GetAsync("payroll"))!;
        await ann.Vaults().RequestDeleteAsync(vault.Id, vault.Version, "payroll");
        var deleting = await Assert.ThrowsAsync<PortalConflictException>(() => Machines(ann).CreateCredentialsAsync(vaultId, "https://backup.example.com/"));

        Assert.Contains("Set Machines:PublicUrl", badAddress.Message);
        Assert.Contains("Machines:PublicUrl is \"ftp://backup.example.com\"", badSetting.Message);
        Assert.Contains("no longer exists", gone.Message);
        Assert.Contains("waiting to be deleted", deleting.Message);
        await using var db = await database.Factory.CreateDbContextAsync();
        Assert.Equal(0, await db.MachineCredentials.CountAsync());
    }

    [Fact]
    public async Task Credentials_show_waiting_used_expired_and_revoked_and_only_a_waiting_file_can_be_revoked()
    {
        var olga = Machines(As("Olga", PortalRoles.Operator));
        var used = await olga.CreateCredentialsAsync(vaultId, "https://backup.example.com/");
        clock.Advance(TimeSpan.FromDays(1));
        var toRevoke = await olga.CreateCredentialsAsync(vaultId, "https://backup.example.com/");
        clock.Advance(TimeSpan.FromDays(1));
        var waiting = await olga.CreateCredentialsAsync(vaultId, "https://backup.example.com/");
        var machine = await database.AddMachineAsync(vaultId, "web01", Start.AddDays(2), m => m.CredentialId = used.CredentialId);
        await using (var db = await database.Factory.CreateDbContextAsync())
        {
            var c = await db.MachineCredentials.SingleAsync(c => c.Id == used.CredentialId);
            (c.UsedAt, c.MachineId) = (Start.AddDays(2), machine.Id);
            await db.SaveChangesAsync();
        }

        await olga.RevokeCredentialsAsync(toRevoke.CredentialId);
        var twice = await Assert.ThrowsAsync<PortalConflictException>(() => olga.RevokeCredentialsAsync(toRevoke.CredentialId));
        var usedRefused = await Assert.ThrowsAsync<PortalConflictException>(() => olga.RevokeCredentialsAsync(used.CredentialId));
        var states = (await olga.ListCredentialsAsync(vaultId)).ToDictionary(c => c.Id);

        Assert.Contains("already revoked by Olga on 2026-03-04 09:00 UTC", twice.Message);
        Assert.Contains("already used by machine web01", usedRefused.Message);
        Assert.Equal(MachineCredentialState.Waiting, states[waiting.CredentialId].State);
        Assert.Equal("Waiting for a machine until 2026-03-14 09:00 UTC", states[waiting.CredentialId].StateText);
        Assert.Equal("Used by machine web01 on 2026-03-04 09:00 UTC", states[used.CredentialId].StateText);
        Assert.Equal("Revoked by Olga on 2026-03-04 09:00 UTC", states[toRevoke.CredentialId].StateText);

        clock.Advance(TimeSpan.FromDays(10));
        Assert.Equal("Expired on 2026-03-14 09:00 UTC, unused", (await olga.ListCredentialsAsync(vaultId)).Single(c => c.Id == waiting.CredentialId).StateText);
        var expired = await Assert.ThrowsAsync<PortalConflictException>(() => olga.RevokeCredentialsAsync(waiting.CredentialId));
        Assert.Contains("expired on 2026-03-14 09:00 UTC", expired.Message);
    }

    [Fact]
    public async Task Revoking_a_machine_marks_it_raises_the_signal_keeps_its_items_and_a_second_revocation_is_refused()
    {
        var machine = await database.AddMachineAsync(vaultId, "web01", Start, m => (m.ConnectedTo, m.LastContactAt) = ("portal-1", Start));
        await database.AddItemAsync(vaultId, machine.Id, "web01-www", JobStatus.Completed, Start.AddHours(-1));
        var olga = As("Olga", PortalRoles.Operator);
        var signalled = new List<Guid>();
        using var _ = olga.GetRequiredService<MachineSignals>().OnRevoked(id =>
        {
            signalled.Add(id);
            return Task.CompletedTask;
        });
        clock.Advance(TimeSpan.FromMinutes(5));

        await Machines(olga).RevokeMachineAsync(machine.Id);
        var second = await Assert.ThrowsAsync<PortalConflictException>(() => Machines(As("Ann", PortalRoles.Contributor)).RevokeMachineAsync(machine.Id));

        Assert.Equal([machine.Id], signalled);
        Assert.Equal("Machine web01 was already revoked by Olga on 2026-03-02 09:05 UTC. Nothing changed.", second.Message);
        var row = Assert.Single(await Machines(olga).ListAsync(null));
        Assert.Equal((MachineStatus.Revoked, Start.AddMinutes(5), "Olga"), (row.Status, row.RevokedAt, row.RevokedBy));
        Assert.Equal(["web01-www"], row.ItemNames);
        await using var db = await database.Factory.CreateDbContextAsync();
        Assert.Equal(1, await db.BackupItems.CountAsync(i => i.MachineId == machine.Id));
        var audit = (await AuditAsync()).Where(a => a.Action == MachineAuditActions.Revoke).ToList();
        Assert.Collection(audit,
            a => Assert.Equal(("Olga", "vault/payroll/machine/web01", AuditOutcome.Succeeded), (a.ActorName, a.Resource, a.Outcome)),
            a => Assert.Equal(("Ann", AuditOutcome.Refused), (a.ActorName, a.Outcome)));
    }

    [Fact]
    public async Task A_revocation_stays_committed_when_closing_the_connection_fails()
    {
        var machine = await database.AddMachineAsync(vaultId, "web01", Start, m => (m.ConnectedTo, m.LastContactAt) = ("portal-1", Start));
        var olga = As("Olga", PortalRoles.Operator);
        using var _ = olga.GetRequiredService<MachineSignals>().OnRevoked(_ => throw new InvalidOperationException("NOTIFY failed"));

        await Machines(olga).RevokeMachineAsync(machine.Id);

        Assert.Equal(MachineStatus.Revoked, Assert.Single(await Machines(olga).ListAsync(vaultId)).Status);
        Assert.Equal(AuditOutcome.Succeeded, Assert.Single(await AuditAsync(), a => a.Action == MachineAuditActions.Revoke).Outcome);
    }

    [Fact]
    public async Task Online_needs_a_connection_and_a_contact_within_the_timeout_and_offline_says_since_when()
    {
        var disconnectedAt = Start.AddMinutes(-30);
        await database.AddMachineAsync(vaultId, "online", Start, m => (m.ConnectedTo, m.LastContactAt) = ("portal-1", Start.AddMinutes(-1)));
        await database.AddMachineAsync(vaultId, "stale", Start, m => (m.ConnectedTo, m.LastContactAt) = ("portal-dead", Start.AddMinutes(-3)));
        await database.AddMachineAsync(vaultId, "gone", Start, m => (m.LastContactAt, m.DisconnectedAt) = (Start.AddMinutes(-31), disconnectedAt));
        await database.AddMachineAsync(vaultId, "never", Start);
        var service = Machines(As("Rita", PortalRoles.Reader));

        var rows = (await service.ListAsync(vaultId)).ToDictionary(r => r.Name);

        Assert.Equal((MachineStatus.Online, null), (rows["online"].Status, rows["online"].OfflineSince));
        Assert.Equal((MachineStatus.Offline, Start.AddMinutes(-3)), (rows["stale"].Status, rows["stale"].OfflineSince));
        Assert.Equal((MachineStatus.Offline, disconnectedAt), (rows["gone"].Status, rows["gone"].OfflineSince));
        Assert.Equal((MachineStatus.Offline, null, null), (rows["never"].Status, rows["never"].OfflineSince, rows["never"].LastContactAt));

        clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1)); // the last contact is now 2 min 1 s old
        var later = (await service.ListAsync(vaultId)).Single(r => r.Name == "online");
        Assert.Equal((MachineStatus.Offline, Start.AddMinutes(-1)), (later.Status, later.OfflineSince));
    }

    [Fact]
    public async Task Each_machine_lists_its_own_items_and_the_newest_backup_among_them_and_the_vault_filter_holds()
    {
        var other = (await As("Ann", PortalRoles.Contributor).Vaults().CreateAsync(new CreateVaultRequest("legal", "east"))).Id;
        var web = await database.AddMachineAsync(vaultId, "web01", Start);
        var db1 = await database.AddMachineAsync(vaultId, "db01", Start);
        var files = await database.AddMachineAsync(other, "files01", Start);
        await database.AddItemAsync(vaultId, web.Id, "www", JobStatus.Completed, Start.AddHours(-5));
        await database.AddItemAsync(vaultId, web.Id, "etc", JobStatus.Failed, Start.AddHours(-1));
        await database.AddItemAsync(vaultId, web.Id, "old", JobStatus.Completed, Start.AddHours(-0.5), ProtectionState.SoftDeleted);
        await database.AddItemAsync(vaultId, null, "portal-host-folder", JobStatus.Completed, Start);
        await database.AddItemAsync(other, files.Id, "shares");
        var service = Machines(As("Rita", PortalRoles.RestoreOperator));

        var all = await service.ListAsync(null);
        var payroll = await service.ListAsync(vaultId);

        Assert.Equal(["files01", "db01", "web01"], all.Select(r => r.Name)); // by vault (legal, payroll), then name
        Assert.Equal(["db01", "web01"], payroll.Select(r => r.Name));
        var webRow = payroll.Single(r => r.Id == web.Id);
        Assert.Equal((2, "etc, www"), (webRow.ItemCount, string.Join(", ", webRow.ItemNames)));
        Assert.Equal((JobStatus.Failed, Start.AddHours(-1)), (webRow.LastBackupStatus, webRow.LastBackupAt));
        var dbRow = payroll.Single(r => r.Id == db1.Id);
        Assert.Equal((0, null, null), (dbRow.ItemCount, dbRow.LastBackupStatus, dbRow.LastBackupAt));
        var filesRow = all.Single(r => r.Id == files.Id);
        Assert.Equal(("legal", 1, null), (filesRow.VaultName, filesRow.ItemCount, filesRow.LastBackupAt));
    }

    [Fact]
    public async Task Upload_limits_must_be_positive_and_sane_and_are_saved_and_audited()
    {
        var machine = await database.AddMachineAsync(vaultId, "web01", Start);
        var olga = Machines(As("Olga", PortalRoles.Operator));

        var zero = await Assert.ThrowsAsync<PortalValidationException>(() => olga.SetUploadLimitsAsync(machine.Id, 0, null));
        var huge = await Assert.ThrowsAsync<PortalValidationException>(() => olga.SetUploadLimitsAsync(machine.Id, 100, MachineService.MaxUploadKiBPerSecond + 1));
        await olga.SetUploadLimitsAsync(machine.Id, 2048, null);

        Assert.Contains("must be a positive number of KiB/s", zero.Errors[nameof(Machine.UploadKiBPerSecond)]);
        Assert.Contains("at most 10485760 KiB/s", huge.Errors[nameof(Machine.OffHoursUploadKiBPerSecond)]);
        var row = Assert.Single(await olga.ListAsync(vaultId));
        Assert.Equal((2048, (int?)null), (row.UploadKiBPerSecond, row.OffHoursUploadKiBPerSecond));
        var audit = Assert.Single(await AuditAsync(), a => a.Action == MachineAuditActions.SetUploadLimits && a.Outcome == AuditOutcome.Succeeded);
        Assert.Equal("no limit in work hours, no limit outside → 2048 KiB/s in work hours, no limit outside", audit.Detail);
    }
}
