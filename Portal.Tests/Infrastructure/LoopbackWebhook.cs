using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Portal.Tests.Infrastructure;

/// <summary>One webhook call as received: the raw body and the headers.</summary>
public sealed record ReceivedHook(byte[] Body, IReadOnlyDictionary<string, string> Headers);

/// <summary>A real HTTP endpoint (Kestrel on a free loopback port) that records every POST to /hook and answers 204.</summary>
public sealed class LoopbackWebhook : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly Channel<ReceivedHook> received = Channel.CreateUnbounded<ReceivedHook>();

    private LoopbackWebhook(WebApplication app) => this.app = app;

    public string Url => app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/hook";

    public static async Task<LoopbackWebhook> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var hook = new LoopbackWebhook(app);
        app.MapPost("/hook", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            await hook.received.Writer.WriteAsync(new ReceivedHook(body.ToArray(), request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase)));
            return Results.NoContent();
        });
        await app.StartAsync();
        return hook;
    }

    public async Task<ReceivedHook> NextAsync(TimeSpan? timeout = null)
    {
        using var wait = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        return await received.Reader.ReadAsync(wait.Token);
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}
