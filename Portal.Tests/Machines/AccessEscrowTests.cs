using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Engine;
using Portal.Engine.Agents;
using Portal.Engine.Crypto;
using Portal.Features.Machines.Access;

namespace Portal.Tests.Machines;

/// <summary>Repository keys in escrow: accepted only when they open the machine's repository, then usable by the portal and for grants.</summary>
public sealed class AccessEscrowTests : IAsyncLifetime
{
    private readonly AccessHost host = new();

    public Task InitializeAsync() => host.InitializeAsync();

    public Task DisposeAsync() => host.DisposeAsync();

    private MachineKeys Keys => host.Services.GetRequiredService<MachineKeys>();

    private async Task<HttpResponseMessage> PostKeyAsync(TestMachine machine, RepositoryKeyRequest request)
    {
        using var client = host.Client();
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(host.BaseAddress, AgentRoutes.RepositoryKey)) { Content = JsonContent.Create(request) };
        message.Headers.TryAddWithoutValidation("Authorization", machine.Authorization(host.Clock.GetUtcNow()));
        return await client.SendAsync(message);
    }

    [Fact]
    public async Task A_key_sealed_to_the_escrow_key_is_kept_and_opens_the_machines_repository()
    {
        var vault = await host.CreateVaultAsync("escrow");
        var machine = await host.RegisterAsync(vault, "app-01");
        var target = await host.RegisterAsync(vault, "app-02");
        byte[] key;
        string repositoryId;
        using (var engine = await BackupEngine.InitAsync(host.Store(machine), AccessHost.Passphrase, AccessHost.EngineOptions))
            (key, repositoryId) = (engine.ExportKey().ToBytes(), engine.RepositoryId);
        var box = SealedBox.Seal(machine.EscrowKey, key, AgentContexts.RepositoryKey(machine.Id));

        var missing = await Assert.ThrowsAsync<MachineKeyUnavailableException>(() => Keys.OpenAsync(machine.Id));
        Assert.Contains("has not sent its repository key yet", missing.Message);
        using (var response = await PostKeyAsync(machine, new RepositoryKeyRequest(repositoryId, Convert.ToBase64String(box))))
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);

        using (var opened = await Keys.OpenAsync(machine.Id))
            Assert.Equal(repositoryId, opened.RepositoryId);

        // A grant: the key sealed to the target's agreement key for one job, opened only with that job's context.
        var job = Guid.NewGuid();
        var granted = Convert.FromBase64String(await Keys.GrantAsync(machine.Id, target.Id, job));
        Assert.Equal(key, SealedBox.Open(target.Agreement, granted, AgentContexts.Grant(job)));
        Assert.ThrowsAny<CryptographicException>(() => SealedBox.Open(target.Agreement, granted, AgentContexts.Grant(Guid.NewGuid())));
        Assert.ThrowsAny<CryptographicException>(() => SealedBox.Open(machine.Agreement, granted, AgentContexts.Grant(job)));

        // Another repository's id is never taken over the kept one.
        using (var response = await PostKeyAsync(machine, new RepositoryKeyRequest(new string('f', 32), Convert.ToBase64String(box))))
        {
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            Assert.Contains($"This machine's repository is {repositoryId}", (await response.Content.ReadFromJsonAsync<AgentProblem>())!.Error);
        }
    }

    [Fact]
    public async Task A_box_sealed_for_another_machine_is_refused_and_nothing_is_kept()
    {
        var vault = await host.CreateVaultAsync("escrow-refused");
        var machine = await host.RegisterAsync(vault, "app-01");
        var other = await host.RegisterAsync(vault, "app-02");
        byte[] key;
        string repositoryId;
        using (var engine = await BackupEngine.InitAsync(host.Store(machine), AccessHost.Passphrase, AccessHost.EngineOptions))
            (key, repositoryId) = (engine.ExportKey().ToBytes(), engine.RepositoryId);
        var boxForOther = SealedBox.Seal(machine.EscrowKey, key, AgentContexts.RepositoryKey(other.Id));

        using (var response = await PostKeyAsync(machine, new RepositoryKeyRequest(repositoryId, Convert.ToBase64String(boxForOther))))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("The escrowed key is not sealed to vault escrow-refused's escrow key for machine app-01: seal it with the key the portal gave at registration.",
                (await response.Content.ReadFromJsonAsync<AgentProblem>())!.Error);
        }

        // A key that does not open the repository (sealed properly, but some other repository's key).
        var wrong = SealedBox.Seal(machine.EscrowKey, RandomNumberGenerator.GetBytes(32), AgentContexts.RepositoryKey(machine.Id));
        using (var response = await PostKeyAsync(machine, new RepositoryKeyRequest(repositoryId, Convert.ToBase64String(wrong))))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("does not open this machine's repository", (await response.Content.ReadFromJsonAsync<AgentProblem>())!.Error);
        }

        await using var db = await host.Db.CreateDbContextAsync();
        var row = await db.Machines.SingleAsync(m => m.Id == machine.Id);
        Assert.Null(row.EscrowedRepositoryKey);
        Assert.Null(row.RepositoryId);
        await Assert.ThrowsAsync<MachineKeyUnavailableException>(() => Keys.OpenAsync(machine.Id));
    }
}
