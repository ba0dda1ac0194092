using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.EntityFrameworkCore;
using Portal.Engine;
using Portal.Engine.Agents;
using Portal.Engine.Storage;
using Portal.Features.Audit;
using Portal.Features.Jobs;
using Portal.Features.Machines.Access;
using Portal.Features.Vaults;

namespace Portal.Tests.Machines;

/// <summary>What a machine's token can and cannot do: the security battery, read grants, revocation.</summary>
public sealed class AccessSecurityTests : IAsyncLifetime
{
    private readonly AccessHost host = new();

    public Task InitializeAsync() => host.InitializeAsync();

    public Task DisposeAsync() => host.DisposeAsync();

    private static async Task<string> ErrorOf(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<AgentProblem>())?.Error ?? "";

    private async Task<(TestMachine Machine, string DataObject)> MachineWithBackupAsync(Vault vault, string name)
    {
        var machine = await host.RegisterAsync(vault, name);
        var source = Path.Combine(host.Root, "source-" + name);
        Directory.CreateDirectory(source);
        await File.WriteAllTextAsync(Path.Combine(source, "report.txt"), "quarterly numbers of " + name);
        using var engine = await BackupEngine.InitAsync(host.Store(machine), AccessHost.Passphrase, AccessHost.EngineOptions);
        await engine.BackupAsync(new Portal.Engine.Operations.BackupRequest(source));
        var data = await host.Store(machine).ListAsync("data/").FirstAsync();
        return (machine, data.Name);
    }

    private HttpRequestMessage Request(HttpMethod method, string path, TestMachine? machine, DateTimeOffset? signedAt = null, byte[]? body = null)
    {
        var request = new HttpRequestMessage(method, new Uri(host.BaseAddress, path));
        if (machine is not null)
            request.Headers.TryAddWithoutValidation("Authorization", machine.Authorization(signedAt ?? host.Clock.GetUtcNow()));
        if (body is not null)
            request.Content = new ByteArrayContent(body);
        return request;
    }

    [Fact]
    public async Task A_machine_token_cannot_damage_backups_or_reach_another_machines_and_the_storage_is_unchanged()
    {
        var vault = await host.CreateVaultAsync("battery");
        var (a, dataObject) = await MachineWithBackupAsync(vault, "machine-a");
        var (b, _) = await MachineWithBackupAsync(vault, "machine-b");
        var before = host.RegionTree();
        Assert.Contains(before.Keys, k => k.Contains($"machines{Path.DirectorySeparatorChar}{a.Id:N}{Path.DirectorySeparatorChar}data", StringComparison.Ordinal));
        using var client = host.Client();
        var store = host.Store(a);

        // Delete a data object: 403, retention runs in the portal.
        var denied = await Assert.ThrowsAsync<StoreAccessDeniedException>(() => store.DeleteAsync(dataObject));
        Assert.Equal("Machines cannot delete backup data; retention runs in the portal.", denied.Reason);
        using (var response = await client.SendAsync(Request(HttpMethod.Delete, AgentRoutes.Store + "/config", a)))
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);

        // Overwrite with other bytes: 409 (write-once).
        var config = await store.GetAsync("config");
        await Assert.ThrowsAsync<ObjectExistsException>(() => store.PutAsync("config", config.Reverse().ToArray()));
        await store.PutAsync("config", config); // identical bytes: accepted, nothing changes

        // A content-addressed name with a body that does not hash to it: 400.
        var existingPack = await store.GetAsync(dataObject);
        var forged = existingPack.ToArray();
        forged[^1] ^= 0xff;
        var refused = await Assert.ThrowsAsync<StoreException>(() => store.PutAsync(dataObject, forged));
        Assert.Contains("do not hash (SHA-256) to its name", refused.Message);
        var hash = Convert.ToHexStringLower(SHA256.HashData([9, 9, 9]));
        using (var response = await client.SendAsync(Request(HttpMethod.Put, $"{AgentRoutes.Store}/snapshots/{hash}", a, body: [1, 2, 3])))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("do not hash (SHA-256) to its name", await ErrorOf(response));
        }

        using (var response = await client.SendAsync(Request(HttpMethod.Put, $"{AgentRoutes.Store}/notes/hello", a, body: [1])))
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);

        // Machine B's repository through the source header, without a restore job: 403, read or list.
        var asB = host.Store(a, source: b.Id);
        var noGrant = await Assert.ThrowsAsync<StoreAccessDeniedException>(() => asB.ListAsync("").ToListAsync().AsTask());
        Assert.Equal($"No restore job grants this machine access to machine {b.Id:N}'s backups.", noGrant.Reason);
        await Assert.ThrowsAsync<StoreAccessDeniedException>(() => asB.GetAsync("config"));
        await Assert.ThrowsAsync<StoreAccessDeniedException>(() => asB.StatAsync("config"));

        // Names that climb out or are not object names: 400, whatever method.
        string[] traversals =
        [
            "data/%2E%2E/%2E%2E/%2E%2E/config", "%2e%2e/%2e%2e/" + b.Id.ToString("N") + "/config", "..%2F..%2Fconfig", "data%2F..%2F..%2Fconfig",
            "%2Fetc%2Fpasswd", "Config", "data//x", "locks/%2E%2E/config", "locks/../../" + b.Id.ToString("N") + "/config", "data/./x",
        ];
        foreach (var name in traversals)
            foreach (var method in new[] { HttpMethods.Get, HttpMethods.Put, HttpMethods.Delete })
            {
                var (status, error) = await RawAsync(method, $"{AgentRoutes.Store}/{name}", a);
                Assert.True(status == StatusCodes.Status400BadRequest, $"{method} {name}: {status}");
                Assert.Contains("is not an object name", error);
            }

        using (var response = await client.SendAsync(Request(HttpMethod.Get, $"{AgentRoutes.Store}?prefix=..%2F", a)))
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);

        // A token signed by another key: 401.
        var impostor = a with { Signing = ECDsa.Create(ECCurve.NamedCurves.nistP256) };
        using (var response = await client.SendAsync(Request(HttpMethod.Get, AgentRoutes.Store + "/config", impostor)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("The machine token's signature does not match the machine's registered key.", await ErrorOf(response));
        }

        // A token signed 6 minutes ago: 401.
        using (var response = await client.SendAsync(Request(HttpMethod.Get, AgentRoutes.Store + "/config", a, host.Clock.GetUtcNow().AddMinutes(-6))))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Contains("more than 5 minutes from the portal's clock", await ErrorOf(response));
        }

        // No token at all: 401 with what to do.
        using (var response = await client.SendAsync(Request(HttpMethod.Get, AgentRoutes.Store + "/config", null)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Contains("needs a machine token", await ErrorOf(response));
        }

        // The access_token query is for the hub's WebSockets only: not a way into the store.
        using (var response = await client.SendAsync(Request(HttpMethod.Get,
                   AgentRoutes.Store + "/config?access_token=" + Uri.EscapeDataString(MachineToken.Create(a.Id, a.Signing, host.Clock.GetUtcNow())), null)))
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);

        // A signed-in user's cookie does not reach the store (and does open pages: the cookie is real).
        var cookie = await SignInAsync("Ann");
        using (var page = new HttpRequestMessage(HttpMethod.Get, new Uri(host.BaseAddress, "/vaults")))
        {
            page.Headers.Add("Cookie", cookie);
            using var response = await client.SendAsync(page);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        foreach (var path in new[] { AgentRoutes.Store + "/config", AgentRoutes.Store + "?prefix=" })
        {
            using var asUser = Request(HttpMethod.Get, path, null);
            asUser.Headers.Add("Cookie", cookie);
            using var response = await client.SendAsync(asUser);
            Assert.Contains(response.StatusCode, new[] { HttpStatusCode.Unauthorized, HttpStatusCode.Forbidden });
        }

        // A machine token does not open a page: the sign-in, not the page.
        using (var response = await client.SendAsync(Request(HttpMethod.Get, "/vaults", a)))
        {
            Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
            Assert.True(response.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, response.StatusCode.ToString());
            if (response.StatusCode == HttpStatusCode.Redirect)
                Assert.Contains("signin", response.Headers.Location!.ToString(), StringComparison.OrdinalIgnoreCase);
        }

        // Revoked (by an operator, through the database, as another portal instance would): refused once the lookup cache
        // (at most 2 s of the portal's clock) has passed.
        Assert.NotNull(await store.StatAsync("config"));
        await using (var db = await host.Db.CreateDbContextAsync())
        {
            var row = await db.Machines.SingleAsync(m => m.Id == a.Id);
            row.RevokedAt = new DateTime(2026, 12, 6, 8, 0, 0, DateTimeKind.Utc);
            row.RevokedBy = "Ann";
            await db.SaveChangesAsync();
        }

        host.Clock.Advance(MachineDirectory.CacheFor);
        var revoked = await Assert.ThrowsAsync<StoreAccessDeniedException>(() => store.GetAsync("config"));
        Assert.Equal("This machine was revoked by Ann on 2026-12-06 08:00 UTC; register it again with new credentials.", revoked.Reason);

        // Nothing of the storage changed, byte for byte.
        Assert.Equal(before, host.RegionTree());
    }

    [Fact]
    public async Task A_machine_that_unregisters_is_refused_on_its_next_request()
    {
        var vault = await host.CreateVaultAsync("leaving");
        var machine = await host.RegisterAsync(vault, "old-box");
        var store = host.Store(machine);
        Assert.Empty(await store.ListAsync("").ToListAsync());
        using var client = host.Client();

        using (var response = await client.SendAsync(Request(HttpMethod.Post, AgentRoutes.Unregister, machine)))
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);

        var refused = await Assert.ThrowsAsync<StoreAccessDeniedException>(() => store.ListAsync("").ToListAsync().AsTask());
        Assert.StartsWith("This machine was revoked by machine old-box (unregister) on ", refused.Reason);
        await using var db = await host.Db.CreateDbContextAsync();
        Assert.Contains(await db.AuditEntries.ToListAsync(), e => e.Action == MachineAuditActions.Unregister && e.Outcome == AuditOutcome.Succeeded
            && e.Resource == "vault leaving / machine old-box");
    }

    [Fact]
    public async Task A_restore_job_grants_read_only_access_to_the_source_while_it_runs()
    {
        var vault = await host.CreateVaultAsync("grants");
        var (a, dataObject) = await MachineWithBackupAsync(vault, "source-box");
        var b = await host.RegisterAsync(vault, "target-box");
        var job = new Job
        {
            Id = Guid.NewGuid(), Kind = JobKind.Restore, Status = JobStatus.InProgress, VaultId = vault.Id, VaultName = vault.Name, Subject = "source-box",
            StartedBy = "Ann", QueuedAt = host.Clock.GetUtcNow().UtcDateTime, HeartbeatAt = host.Clock.GetUtcNow().UtcDateTime,
            Operation = AgentOperations.Restore, MachineId = b.Id,
            Input = JsonSerializer.Serialize(new MachineRestoreInput(a.Id, "latest", [], "/restore", "Overwrite"), new JsonSerializerOptions(JsonSerializerDefaults.Web)),
        };
        await using (var db = await host.Db.CreateDbContextAsync())
        {
            db.Jobs.Add(job);
            await db.SaveChangesAsync();
        }

        var before = host.RegionTree();
        var granted = host.Store(b, source: a.Id);
        Assert.Contains(await granted.ListAsync("data/").ToListAsync(), o => o.Name == dataObject);
        Assert.Equal(await host.Store(a).GetAsync("config"), await granted.GetAsync("config"));
        var readOnly = await Assert.ThrowsAsync<StoreAccessDeniedException>(() => granted.PutAsync("locks/" + new string('0', 64), new byte[] { 1 }));
        Assert.Contains("cannot change them", readOnly.Reason);
        await Assert.ThrowsAsync<StoreAccessDeniedException>(() => granted.DeleteAsync(dataObject));
        // Machine A has no job granting it B's repository: the grant is the target's only.
        await Assert.ThrowsAsync<StoreAccessDeniedException>(() => host.Store(a, source: b.Id).ListAsync("").ToListAsync().AsTask());

        await using (var db = await host.Db.CreateDbContextAsync())
        {
            var row = await db.Jobs.SingleAsync(j => j.Id == job.Id);
            row.Status = JobStatus.Completed;
            await db.SaveChangesAsync();
        }

        var ended = await Assert.ThrowsAsync<StoreAccessDeniedException>(() => granted.GetAsync("config"));
        Assert.Equal($"No restore job grants this machine access to machine {a.Id:N}'s backups.", ended.Reason);
        Assert.Equal(before, host.RegionTree());
    }

    /// <summary>
    /// A request as a raw HTTP client sends it and Kestrel hands it on: the request target byte for byte (System.Uri in
    /// HttpClient would resolve "%2E%2E" and ".." itself, so the portal would never see them), the path decoded with its
    /// dot segments removed.
    /// </summary>
    private async Task<(int Status, string Error)> RawAsync(string method, string rawTarget, TestMachine machine)
    {
        var context = await host.Server.SendAsync(http =>
        {
            http.Request.Method = method;
            http.Features.Get<IHttpRequestFeature>()!.RawTarget = rawTarget;
            http.Request.Path = new PathString(RemoveDotSegments(Uri.UnescapeDataString(rawTarget)));
            http.Request.Headers.Authorization = machine.Authorization(host.Clock.GetUtcNow());
            if (method == HttpMethods.Put)
            {
                http.Request.Body = new MemoryStream([1]);
                http.Request.ContentLength = 1;
            }
        });
        using var body = new MemoryStream();
        await context.Response.Body.CopyToAsync(body);
        var error = body.Length > 0 && context.Response.ContentType?.StartsWith("application/json", StringComparison.Ordinal) == true
            ? JsonSerializer.Deserialize<AgentProblem>(body.ToArray(), new JsonSerializerOptions(JsonSerializerDefaults.Web))?.Error ?? ""
            : "";
        return (context.Response.StatusCode, error);
    }

    private static string RemoveDotSegments(string path)
    {
        var kept = new List<string>();
        foreach (var segment in path.Split('/').Skip(1))
        {
            if (segment == "..")
            {
                if (kept.Count > 0)
                    kept.RemoveAt(kept.Count - 1);
            }
            else if (segment != ".")
            {
                kept.Add(segment);
            }
        }

        return "/" + string.Join('/', kept);
    }

    private async Task<string> SignInAsync(string name)
    {
        using var client = host.Client();
        using var response = await client.GetAsync($"/test/sign-in?name={name}");
        var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("portal.auth=", StringComparison.Ordinal));
        return cookie[..cookie.IndexOf(';')];
    }
}
