using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Portal.Engine.Agents;
using Portal.Features.Audit;
using Portal.Features.Machines;
using Portal.Features.Vaults;

namespace Portal.Tests.Machines;

/// <summary>POST /api/agent/register: the happy path, every refusal in the words a user sees, and one file racing itself.</summary>
public sealed class RegistrationTests : IAsyncLifetime
{
    private readonly AccessHost host = new();

    public Task InitializeAsync() => host.InitializeAsync();

    public Task DisposeAsync() => host.DisposeAsync();

    private async Task<(HttpStatusCode Status, string Error)> RefusedAsync(RegisterRequest request)
    {
        using var client = host.Client();
        using var response = await client.PostAsJsonAsync(AgentRoutes.Register, request);
        Assert.False(response.IsSuccessStatusCode);
        var problem = await response.Content.ReadFromJsonAsync<AgentProblem>();
        return (response.StatusCode, problem!.Error);
    }

    /// <summary>Nothing was created: no machine in the vault, the credentials unused, and the refusal audited with its reason.</summary>
    private async Task AssertNothingCreatedAsync(Vault vault, Guid credentialId, string reason)
    {
        await using var db = await host.Db.CreateDbContextAsync();
        Assert.Equal(0, await db.Machines.CountAsync(m => m.VaultId == vault.Id));
        if (await db.MachineCredentials.FirstOrDefaultAsync(c => c.Id == credentialId) is { } credential)
        {
            Assert.Null(credential.UsedAt);
            Assert.Null(credential.MachineId);
        }

        Assert.Contains(await db.AuditEntries.Where(a => a.Action == "Machine.Register").ToListAsync(),
            a => a.Outcome == AuditOutcome.Refused && a.Detail == reason);
    }

    [Fact]
    public async Task A_machine_registers_once_and_gets_the_vaults_escrow_key()
    {
        var vault = await host.CreateVaultAsync("finance");
        var file = await host.CreateCredentialsAsync(vault);
        var machine = TestMachine.Create("web-01.contoso.com");
        using var client = host.Client();

        using var response = await client.PostAsJsonAsync(AgentRoutes.Register, machine.Request(file));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var registered = (await response.Content.ReadFromJsonAsync<RegisterResponse>())!;
        Assert.Equal((vault.Id, "finance", "web-01.contoso.com"), (registered.VaultId, registered.VaultName, registered.MachineName));
        using (var escrow = ECDiffieHellman.Create())
            escrow.ImportSubjectPublicKeyInfo(Convert.FromBase64String(registered.EscrowKey), out _); // a P-256 key the agent can seal to
        await using var db = await host.Db.CreateDbContextAsync();
        var row = await db.Machines.SingleAsync(m => m.VaultId == vault.Id);
        Assert.Equal((registered.MachineId, "WEB-01.CONTOSO.COM", "Ann", file.CredentialId), (row.Id, row.NormalizedName, row.RegisteredBy, row.CredentialId));
        Assert.Equal(machine.Signing.ExportSubjectPublicKeyInfo(), row.SigningKey);
        var credential = await db.MachineCredentials.SingleAsync(c => c.Id == file.CredentialId);
        Assert.Equal(registered.MachineId, credential.MachineId);
        Assert.NotNull(credential.UsedAt);
        Assert.Contains(await db.AuditEntries.ToListAsync(),
            a => a.Action == "Machine.Register" && a.Outcome == AuditOutcome.Succeeded && a.Resource == "vault finance / machine web-01.contoso.com");
        // The escrow key is the vault's: a second machine gets the same one.
        var second = await host.RegisterAsync(vault, "web-02");
        Assert.Equal(Convert.FromBase64String(registered.EscrowKey), second.EscrowKey);
    }

    [Fact]
    public async Task Unknown_credentials_are_refused_as_not_issued()
    {
        var vault = await host.CreateVaultAsync("unknown");
        var file = await host.CreateCredentialsAsync(vault);
        var (status, error) = await RefusedAsync(TestMachine.Create("web-01").Request(file with { CredentialId = Guid.NewGuid() }));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("These credentials were not issued by this portal (or were altered): download new ones from the vault's page (Add a machine).", error);
        await AssertNothingCreatedAsync(vault, file.CredentialId, error);
    }

    [Fact]
    public async Task A_forged_secret_is_refused_as_not_issued()
    {
        var vault = await host.CreateVaultAsync("forged");
        var file = await host.CreateCredentialsAsync(vault);
        var forged = file with { Secret = file.Secret[..^2] + (file.Secret[^2] == 'A' ? "BB" : "AA") };
        var (status, error) = await RefusedAsync(TestMachine.Create("web-01").Request(forged));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.StartsWith("These credentials were not issued by this portal (or were altered)", error);
        await AssertNothingCreatedAsync(vault, file.CredentialId, error);
    }

    [Fact]
    public async Task Used_credentials_name_the_machine_that_used_them()
    {
        var vault = await host.CreateVaultAsync("used");
        var file = await host.CreateCredentialsAsync(vault);
        using var client = host.Client();
        (await client.PostAsJsonAsync(AgentRoutes.Register, TestMachine.Create("first").Request(file))).EnsureSuccessStatusCode();

        var (status, error) = await RefusedAsync(TestMachine.Create("second").Request(file));

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Matches(@"^These credentials were already used by machine first on \d{4}-\d\d-\d\d \d\d:\d\d UTC: each file registers one machine; download new ones\.$", error);
        await using var db = await host.Db.CreateDbContextAsync();
        Assert.Equal(["first"], await db.Machines.Where(m => m.VaultId == vault.Id).Select(m => m.Name).ToListAsync());
    }

    [Fact]
    public async Task Expired_credentials_are_refused_by_the_portals_clock()
    {
        var vault = await host.CreateVaultAsync("expired");
        var file = await host.CreateCredentialsAsync(vault, TimeSpan.FromHours(1));
        host.Clock.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));

        var (status, error) = await RefusedAsync(TestMachine.Create("web-01").Request(file));

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal($"These credentials expired on {file.ExpiresAt:yyyy-MM-dd HH:mm} UTC: download new ones from the vault's page (Add a machine).", error);
        await AssertNothingCreatedAsync(vault, file.CredentialId, error);
    }

    [Fact]
    public async Task Revoked_credentials_say_who_revoked_them()
    {
        var vault = await host.CreateVaultAsync("revoked");
        var file = await host.CreateCredentialsAsync(vault);
        await using (var db = await host.Db.CreateDbContextAsync())
        {
            var credential = await db.MachineCredentials.SingleAsync(c => c.Id == file.CredentialId);
            credential.RevokedAt = new DateTime(2026, 12, 1, 9, 30, 0, DateTimeKind.Utc);
            credential.RevokedBy = "Bob";
            await db.SaveChangesAsync();
        }

        var (status, error) = await RefusedAsync(TestMachine.Create("web-01").Request(file));

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("These credentials were revoked by Bob on 2026-12-01 09:30 UTC: download new ones from the vault's page (Add a machine).", error);
        await AssertNothingCreatedAsync(vault, file.CredentialId, error);
    }

    [Fact]
    public async Task A_name_taken_in_the_vault_is_refused_until_that_machine_is_revoked()
    {
        var vault = await host.CreateVaultAsync("names");
        var first = await host.RegisterAsync(vault, "db-01");
        var file = await host.CreateCredentialsAsync(vault);

        var (status, error) = await RefusedAsync(TestMachine.Create("DB-01").Request(file));

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("A machine named DB-01 is already registered to vault names: revoke it first or register with --name.", error);
        await using (var db = await host.Db.CreateDbContextAsync())
        {
            Assert.Equal(1, await db.Machines.CountAsync(m => m.VaultId == vault.Id));
            Assert.Null((await db.MachineCredentials.SingleAsync(c => c.Id == file.CredentialId)).UsedAt);
            var machine = await db.Machines.SingleAsync(m => m.Id == first.Id);
            machine.RevokedAt = host.Clock.GetUtcNow().UtcDateTime;
            machine.RevokedBy = "Ann";
            await db.SaveChangesAsync();
        }

        using var client = host.Client();
        using var again = await client.PostAsJsonAsync(AgentRoutes.Register, TestMachine.Create("DB-01").Request(file));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Theory]
    [InlineData("", "The machine name '' is empty")]
    [InlineData("web_01", "The machine name 'web_01' is not a host name")]
    [InlineData("-web", "The machine name '-web' is not a host name")]
    [InlineData("web..01", "The machine name 'web..01' is not a host name")]
    [InlineData("web 01", "The machine name 'web 01' is not a host name")]
    public async Task A_name_that_is_not_a_host_name_is_refused(string name, string expected)
    {
        var vault = await host.CreateVaultAsync("bad-name-" + Guid.NewGuid().ToString("N")[..6]);
        var file = await host.CreateCredentialsAsync(vault);
        var (status, error) = await RefusedAsync(TestMachine.Create(name).Request(file));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith(expected, error);
        Assert.Contains("--name", error);
        await AssertNothingCreatedAsync(vault, file.CredentialId, error);
    }

    [Fact]
    public async Task A_name_longer_than_253_characters_is_refused()
    {
        var vault = await host.CreateVaultAsync("long-name");
        var file = await host.CreateCredentialsAsync(vault);
        var name = string.Join('.', Enumerable.Repeat(new string('a', 63), 4)); // 255
        var (status, error) = await RefusedAsync(TestMachine.Create(name).Request(file));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("has 255 characters (at most 253)", error);
        await AssertNothingCreatedAsync(vault, file.CredentialId, error);
    }

    public static TheoryData<string, string> MalformedKeys()
    {
        using var rsa = RSA.Create(2048);
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        return new()
        {
            { "signing", "not base64!" },
            { "signing", Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo()) },
            { "signing", Convert.ToBase64String(p384.ExportSubjectPublicKeyInfo()) },
            { "agreement", Convert.ToBase64String([1, 2, 3]) },
            { "agreement", "" },
        };
    }

    [Theory]
    [MemberData(nameof(MalformedKeys))]
    public async Task A_key_that_is_not_a_P256_public_key_is_refused(string which, string key)
    {
        var vault = await host.CreateVaultAsync("keys-" + Guid.NewGuid().ToString("N")[..6]);
        var file = await host.CreateCredentialsAsync(vault);
        var request = TestMachine.Create("web-01").Request(file);
        request = which == "signing" ? request with { SigningKey = key } : request with { AgreementKey = key };

        var (status, error) = await RefusedAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith($"The machine's {which} key is not a P-256 public key", error);
        await AssertNothingCreatedAsync(vault, file.CredentialId, error);
    }

    [Fact]
    public async Task An_overlong_operating_system_is_refused()
    {
        var vault = await host.CreateVaultAsync("os");
        var file = await host.CreateCredentialsAsync(vault);
        var (status, error) = await RefusedAsync(TestMachine.Create("web-01").Request(file) with { OperatingSystem = new string('x', 201) });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith("The machine's operating system must be 1 to 200 printable characters", error);
        await AssertNothingCreatedAsync(vault, file.CredentialId, error);
    }

    [Fact]
    public async Task A_body_that_is_not_a_registration_gets_words_not_a_stack_trace()
    {
        using var client = host.Client();
        using var response = await client.PostAsync(AgentRoutes.Register, new StringContent("{not json", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("Send the registration (RegisterRequest) as JSON (application/json): update the agent.",
            (await response.Content.ReadFromJsonAsync<AgentProblem>())!.Error);
    }

    [Fact]
    public async Task Two_registrations_racing_with_one_file_make_exactly_one_machine()
    {
        var vault = await host.CreateVaultAsync("race");
        var file = await host.CreateCredentialsAsync(vault);
        using var client = host.Client();

        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            client.PostAsJsonAsync(AgentRoutes.Register, TestMachine.Create($"racer-{i}").Request(file))));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.OK), r => Assert.Equal(HttpStatusCode.Conflict, r.StatusCode));
        await using var db = await host.Db.CreateDbContextAsync();
        var machines = await db.Machines.Where(m => m.VaultId == vault.Id).ToListAsync();
        var winner = Assert.Single(machines);
        Assert.Equal(winner.Id, (await db.MachineCredentials.SingleAsync(c => c.Id == file.CredentialId)).MachineId);
        foreach (var response in responses)
            response.Dispose();
    }
}
