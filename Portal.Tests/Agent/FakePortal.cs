using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Portal.Engine.Agents;
using Portal.Engine.Storage;

namespace Portal.Tests.Agent;

/// <summary>
/// A stand-in for the portal's agent endpoints exactly as docs/agent-protocol.md describes them (registration, the
/// store endpoint over a local folder, the repository key, unregister, and the hub), on a real loopback port, so the
/// real agent process can be run against it. It checks every machine token against the registered key and records
/// how the token came (header or query).
/// </summary>
public sealed class FakePortal : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly System.Threading.Channels.Channel<AgentOutcome> finishes = System.Threading.Channels.Channel.CreateUnbounded<AgentOutcome>();
    private readonly TaskCompletionSource connected = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private FakePortal(WebApplication app, string storeRoot)
    {
        this.app = app;
        Store = new LocalDirectoryStore(storeRoot);
    }

    /// <summary>The machine's repository as the portal keeps it.</summary>
    public LocalDirectoryStore Store { get; }

    /// <summary>The vault's escrow key pair.</summary>
    public ECDiffieHellman Escrow { get; } = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);

    public Guid VaultId { get; } = Guid.NewGuid();
    public Guid CredentialId { get; } = Guid.NewGuid();
    public string Secret { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    public Guid MachineId { get; } = Guid.NewGuid();
    public string? MachineName { get; private set; }
    public byte[]? SigningKey { get; private set; }
    public RepositoryKeyRequest? EscrowedKey { get; private set; }
    public string? RevokedBecause { get; set; }

    /// <summary>Fail the next Finish calls (a portal instance failing): the agent must call again.</summary>
    public int FailFinishes;

    /// <summary>Finish calls received.</summary>
    public int FinishCalls;

    /// <summary>Answer the next repository-key posts with 503 (a portal restarting).</summary>
    public int FailRepositoryKeyPosts { get; set; }

    public ConcurrentQueue<string> TokenForms { get; } = new();
    public ConcurrentQueue<AgentJob> Queue { get; } = new();
    public ConcurrentQueue<AgentProgress> Reports { get; } = new();
    public ConcurrentQueue<string> LogLines { get; } = new();
    public ConcurrentQueue<AgentHello> Hellos { get; } = new();

    public string Url => app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    /// <summary>The next job outcome the agent finishes with (fails the test after a minute).</summary>
    public async Task<AgentOutcome> NextFinishAsync()
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        return await finishes.Reader.ReadAsync(limit.Token);
    }
    public Task Connected => connected.Task;

    public static async Task<FakePortal> StartAsync(string storeRoot)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        builder.Services.AddSignalR();
        builder.Services.AddSingleton<Holder>();
        var app = builder.Build();
        var portal = new FakePortal(app, storeRoot);
        app.Services.GetRequiredService<Holder>().Portal = portal;
        app.UseWebSockets();
        app.Use(portal.AuthenticateAsync);
        app.MapPost(AgentRoutes.Register, portal.RegisterAsync);
        app.MapPost(AgentRoutes.RepositoryKey, async (RepositoryKeyRequest request) =>
        {
            if (portal.FailRepositoryKeyPosts-- > 0)
                return Results.StatusCode(503);
            portal.EscrowedKey = request;
            return Results.NoContent();
        });
        app.MapPost(AgentRoutes.Unregister, () =>
        {
            portal.RevokedBecause = "Revoked by the machine itself (unregister).";
            return Results.NoContent();
        });
        app.Map(AgentRoutes.Store + "/{**name}", portal.StoreAsync);
        app.MapGet(AgentRoutes.Store, async (string prefix) =>
        {
            var list = new List<StoreListEntry>();
            await foreach (var info in portal.Store.ListAsync(prefix))
                list.Add(new StoreListEntry(info.Name, info.Length, info.LastModified));
            return Results.Json(list);
        });
        app.MapHub<FakeHub>(AgentRoutes.Hub);
        await app.StartAsync();
        return portal;
    }

    /// <summary>Tells the connected agent that a job is queued.</summary>
    public Task WakeAsync() => app.Services.GetRequiredService<IHubContext<FakeHub>>().Clients.All.SendAsync(AgentClientMethods.Wake);

    /// <summary>A credentials file for this portal.</summary>
    public MachineCredentialsFile Credentials(DateTimeOffset? expires = null) =>
        new(1, Url, VaultId, "Vault A", CredentialId, Secret, expires ?? DateTimeOffset.UtcNow.AddDays(10));

    private async Task<IResult> RegisterAsync(RegisterRequest request)
    {
        if (request.CredentialId != CredentialId || request.Secret != Secret)
            return Results.Json(new AgentProblem("These credentials were not issued by this portal. Download new ones from the vault's page."), statusCode: 401);
        if (SigningKey is not null)
            return Results.Json(new AgentProblem($"These credentials were already used by machine {MachineName} on 2026-12-01."), statusCode: 409);
        SigningKey = Convert.FromBase64String(request.SigningKey);
        MachineName = request.MachineName;
        await Task.CompletedTask;
        return Results.Json(new RegisterResponse(MachineId, VaultId, "Vault A", request.MachineName, Convert.ToBase64String(Escrow.ExportSubjectPublicKeyInfo())));
    }

    private async Task AuthenticateAsync(HttpContext context, RequestDelegate next)
    {
        var path = context.Request.Path.Value ?? "";
        if (!path.StartsWith("/api/agent/", StringComparison.Ordinal) || path == AgentRoutes.Register)
        {
            await next(context);
            return;
        }

        string? token = null;
        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith(MachineToken.Scheme + " ", StringComparison.Ordinal))
        {
            token = header[(MachineToken.Scheme.Length + 1)..];
            TokenForms.Enqueue($"header {path}");
        }

        if (context.Request.Query["access_token"].ToString() is { Length: > 0 } query)
        {
            token ??= query;
            TokenForms.Enqueue($"query {path}");
        }

        var refusal = token is null ? "No machine token." : SigningKey is null ? "Unknown machine." : MachineToken.Verify(token, SigningKey, DateTimeOffset.UtcNow);
        refusal ??= MachineToken.ClaimedMachine(token!) != MachineId ? "Another machine's token." : RevokedBecause;
        if (refusal is not null)
        {
            context.Response.StatusCode = 401;
            await context.Response.WriteAsJsonAsync(new AgentProblem(refusal));
            return;
        }

        await next(context);
    }

    private async Task StoreAsync(HttpContext context, string name)
    {
        var request = context.Request;
        var response = context.Response;
        try
        {
            switch (request.Method)
            {
                case "PUT":
                {
                    using var body = new MemoryStream();
                    await request.Body.CopyToAsync(body);
                    await Store.PutAsync(name, body.ToArray());
                    response.StatusCode = 200;
                    return;
                }
                case "HEAD":
                {
                    var info = await Store.StatAsync(name);
                    if (info is null) { response.StatusCode = 404; return; }
                    response.ContentLength = info.Length;
                    response.Headers.LastModified = info.LastModified.ToString("R");
                    return;
                }
                case "DELETE":
                    if (!name.StartsWith("locks/", StringComparison.Ordinal)) { response.StatusCode = 403; return; }
                    await Store.DeleteAsync(name);
                    response.StatusCode = 204;
                    return;
                case "GET":
                {
                    if (request.Headers.Range.ToString() is { Length: > 0 } range)
                    {
                        var parts = range["bytes=".Length..].Split('-');
                        long from = long.Parse(parts[0]), to = long.Parse(parts[1]);
                        var buffer = new byte[to - from + 1];
                        await Store.ReadRangeAsync(name, from, buffer);
                        response.StatusCode = 206;
                        await response.Body.WriteAsync(buffer);
                        return;
                    }

                    var bytes = await Store.GetAsync(name);
                    await response.Body.WriteAsync(bytes);
                    return;
                }
                default:
                    response.StatusCode = 405;
                    return;
            }
        }
        catch (ObjectNotFoundException)
        {
            response.StatusCode = 404;
        }
        catch (ObjectExistsException)
        {
            response.StatusCode = 409;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await app.DisposeAsync();
        Escrow.Dispose();
    }

    /// <summary>Where the hub finds the fake (hubs are made per call by the container).</summary>
    public sealed class Holder
    {
        public FakePortal Portal { get; set; } = null!;
    }

    /// <summary>The hub of control as the protocol names its methods.</summary>
    public sealed class FakeHub(Holder holder) : Hub
    {
        private FakePortal P => holder.Portal;

        public AgentSettings Hello(AgentHello hello)
        {
            P.Hellos.Enqueue(hello);
            P.connected.TrySetResult();
            return new AgentSettings(P.MachineId, hello.MachineName, P.VaultId, "Vault A", UploadKiBPerSecond: 100_000);
        }

        public AgentJob? Claim() => P.Queue.TryDequeue(out var job) ? job : null;

        public AgentControl Report(AgentLease lease, AgentProgress progress)
        {
            P.Reports.Enqueue(progress);
            return AgentControl.Continue;
        }

        public void Log(AgentLease lease, AgentLogLevel level, string[] lines)
        {
            foreach (var line in lines) P.LogLines.Enqueue($"{level}: {line}");
        }

        public bool Finish(AgentLease lease, AgentOutcome outcome)
        {
            Interlocked.Increment(ref P.FinishCalls);
            if (Interlocked.Decrement(ref P.FailFinishes) >= 0)
                throw new HubException("The portal could not record the outcome (database restarting).");
            P.finishes.Writer.TryWrite(outcome);
            return true;
        }
    }
}

/// <summary>Runs the built agent (Portal.Agent.dll) as a process, as an operator would.</summary>
public static class AgentProcess
{
    public static string Dll()
    {
        var bin = Path.GetDirectoryName(typeof(AgentProcess).Assembly.Location)!; // .../Portal.Tests/bin/<Configuration>/net10.0
        var configuration = Path.GetFileName(Path.GetDirectoryName(bin))!;
        return Path.Combine(Infrastructure.Checkout.Root(), "Portal.Agent", "bin", configuration, "net10.0", "Portal.Agent.dll");
    }

    public static ProcessStartInfo StartInfo(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        start.ArgumentList.Add(Dll());
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment.Remove("PORTAL_AGENT_STATE");
        return start;
    }

    public static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        using var process = Process.Start(StartInfo(args))!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(limit.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    public static string Json(MachineCredentialsFile file) => JsonSerializer.Serialize(file, new JsonSerializerOptions(JsonSerializerDefaults.Web));
}
