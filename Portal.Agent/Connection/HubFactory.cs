using System.Net.Http.Headers;
using System.Net.WebSockets;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Logging;
using Portal.Engine.Agents;

namespace Portal.Agent.Connection;

/// <summary>
/// Builds the agent's one connection to the hub (<see cref="AgentRoutes.Hub"/>). Every request of it carries a fresh
/// machine token, in every form the portal may read: the SignalR access token (<see cref="HttpConnectionOptionsExtensions"/>'s
/// <c>AccessTokenProvider</c>), the <c>access_token</c> query parameter, and <c>Authorization: Machine TOKEN</c> (which
/// replaces the client's <c>Bearer</c> header). It reconnects forever with <see cref="Backoff"/>.
/// </summary>
internal static class HubFactory
{
    /// <summary>The connection to the portal at <paramref name="portal"/> as <paramref name="identity"/>.</summary>
    public static HubConnection Build(Uri portal, MachineIdentity identity, ILogger logger) =>
        new HubConnectionBuilder()
            .WithUrl(new Uri(portal, AgentRoutes.Hub), options =>
            {
                options.AccessTokenProvider = () => Task.FromResult<string?>(identity.Token());
                options.HttpMessageHandlerFactory = inner => new MachineTokenHandler(identity) { InnerHandler = inner };
                options.WebSocketFactory = async (context, ct) =>
                {
                    var socket = new ClientWebSocket();
                    var token = identity.Token();
                    socket.Options.SetRequestHeader("Authorization", $"{MachineToken.Scheme} {token}");
                    try
                    {
                        await socket.ConnectAsync(WithToken(context.Uri, token), ct);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }

                    return socket;
                };
            })
            .WithAutomaticReconnect(new ForeverRetryPolicy(logger))
            .Build();

    /// <summary><paramref name="uri"/> with its <c>access_token</c> query parameter set to <paramref name="token"/>.</summary>
    internal static Uri WithToken(Uri uri, string token)
    {
        var builder = new UriBuilder(uri);
        var kept = builder.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Where(p => !p.StartsWith("access_token=", StringComparison.Ordinal));
        builder.Query = string.Join('&', kept.Append("access_token=" + Uri.EscapeDataString(token)));
        return builder.Uri;
    }

    private sealed class MachineTokenHandler(MachineIdentity identity) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var token = identity.Token();
            request.Headers.Authorization = new AuthenticationHeaderValue(MachineToken.Scheme, token);
            if (request.RequestUri is { } uri)
                request.RequestUri = WithToken(uri, token);
            return base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>Reconnects forever: the <see cref="Backoff"/> waits, one log line per failed try with its reason.</summary>
    private sealed class ForeverRetryPolicy(ILogger logger) : IRetryPolicy
    {
        public TimeSpan? NextRetryDelay(RetryContext retryContext)
        {
            var delay = Backoff.Delay(retryContext.PreviousRetryCount);
            if (retryContext.PreviousRetryCount > 0)
                logger.LogWarning("Reconnecting to the portal failed ({Reason}); next try in {Seconds:0} s.", AgentWorker.Reason(retryContext.RetryReason), delay.TotalSeconds);
            return delay;
        }
    }
}
