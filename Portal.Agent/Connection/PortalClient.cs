using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Portal.Agent.State;
using Portal.Engine.Agents;

namespace Portal.Agent.Connection;

/// <summary>
/// The agent's plain HTTP calls to the portal (registration, its repository key, unregistering, and whether the portal
/// accepts the machine). A refusal shows the portal's own words (<see cref="AgentProblem.Error"/>).
/// </summary>
internal sealed class PortalClient(HttpClient http, Uri portal)
{
    /// <summary>Registers the machine with the credentials' secret.</summary>
    public async Task<RegisterResponse> RegisterAsync(RegisterRequest request, CancellationToken ct)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(portal, AgentRoutes.Register))
        {
            Content = JsonContent.Create(request, WireJson.Default.RegisterRequest),
        };
        using var response = await SendAsync(message, ct);
        await EnsureAsync(response, "The portal refused the registration", ct);
        return await ReadAsync(response, WireJson.Default.RegisterResponse, ct);
    }

    /// <summary>Sends the repository key sealed to the vault's escrow key.</summary>
    public async Task SendRepositoryKeyAsync(RepositoryKeyRequest request, string authorization, CancellationToken ct)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(portal, AgentRoutes.RepositoryKey))
        {
            Content = JsonContent.Create(request, WireJson.Default.RepositoryKeyRequest),
        };
        message.Headers.TryAddWithoutValidation("Authorization", authorization);
        using var response = await SendAsync(message, ct);
        await EnsureAsync(response, "The portal refused the machine's repository key", ct);
    }

    /// <summary>Asks the portal to revoke this machine's registration (its backups stay in the vault).</summary>
    public async Task UnregisterAsync(string authorization, CancellationToken ct)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(portal, AgentRoutes.Unregister));
        message.Headers.TryAddWithoutValidation("Authorization", authorization);
        using var response = await SendAsync(message, ct);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
            return; // already revoked: what was asked is so
        await EnsureAsync(response, "The portal refused to unregister the machine", ct);
    }

    /// <summary>Whether the portal accepts the machine: null when it does, else its reason (a revoked machine).</summary>
    public async Task<string?> RefusalAsync(string authorization, CancellationToken ct)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, new Uri(portal, AgentRoutes.Store + "?prefix=keys/"));
        message.Headers.TryAddWithoutValidation("Authorization", authorization);
        using var response = await SendAsync(message, ct);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            return await ProblemAsync(response, ct) ?? $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
        await EnsureAsync(response, "The portal's store endpoint failed", ct);
        return null;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage message, CancellationToken ct)
    {
        try
        {
            return await http.SendAsync(message, ct);
        }
        catch (HttpRequestException e)
        {
            throw new PortalUnreachableException($"The portal at {portal} cannot be reached ({AgentWorker.Words(e)}). Check the address, that this machine reaches it over https, " +
                                                 "and that its certificate is trusted here.", e);
        }
        catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new PortalUnreachableException($"The portal at {portal} did not answer in time. Check that it runs and that this machine reaches it.", e);
        }
    }

    private static async Task EnsureAsync(HttpResponseMessage response, string refused, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode)
            return;
        var problem = await ProblemAsync(response, ct);
        var status = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
        if (problem is not null)
            throw new AgentException($"{refused}: {problem}");
        if ((int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.NotFound)
            throw new PortalUnreachableException($"{refused} ({status}): the portal may be starting, updating or too old for this agent. Try again in a minute.");
        throw new AgentException($"{refused} ({status}).");
    }

    private static async Task<string?> ProblemAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            return (await response.Content.ReadFromJsonAsync(WireJson.Default.AgentProblem, ct))?.Error;
        }
        catch (Exception e) when (e is JsonException or HttpRequestException or IOException or NotSupportedException or InvalidOperationException)
        {
            return null;
        }
    }

    private async Task<T> ReadAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> type, CancellationToken ct)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync(type, ct) ?? throw new JsonException("empty body");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or HttpRequestException or IOException)
        {
            throw new PortalUnreachableException($"The portal at {portal} gave an answer this agent cannot read ({e.Message}). Is the address the portal's, and is the agent up to date?", e);
        }
    }
}

/// <summary>The portal could not be reached or failed (not a refusal): trying again later may work.</summary>
internal sealed class PortalUnreachableException(string message, Exception? inner = null) : Exception(message, inner);
