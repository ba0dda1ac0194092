using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Portal.Engine.Agents;

namespace Portal.Engine.Storage;

/// <summary>
/// An <see cref="IObjectStore"/> over the portal's append-only store endpoint (<see cref="AgentRoutes.Store"/>): how a
/// registered machine reaches its repository without holding any storage credential. Every request carries a fresh
/// machine token from <paramref name="authorize"/>. Deletes are allowed by the portal only for <c>locks/</c>; anything
/// else it refuses (a <see cref="StoreAccessDeniedException"/>, permanent). Network failures, 5xx and 429 are transient.
/// </summary>
/// <param name="http">The client (its BaseAddress is not used).</param>
/// <param name="portal">The portal's address.</param>
/// <param name="authorize">Returns the <c>Authorization</c> header value for the next request (<c>Machine TOKEN</c>).</param>
/// <param name="sourceMachine">Read another machine's repository under a restore job's grant (read-only).</param>
public sealed class HttpObjectStore(HttpClient http, Uri portal, Func<string> authorize, Guid? sourceMachine = null) : IStreamPutStore
{
    private readonly Uri root = new(portal, AgentRoutes.Store + "/");

    /// <summary>Puts the object streamed from <paramref name="open"/> (a pack spooled to a file): the body is never held in memory.</summary>
    public async Task PutStreamAsync(string name, Func<Stream> open, long length, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        using var request = Request(HttpMethod.Put, name);
        Stream body;
        try
        {
            body = open();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreException($"The upload of '{name}' cannot read its temporary file ({e.Message}).", isTransient: false, e);
        }

        request.Content = new StreamContent(body, 256 * 1024);
        request.Content.Headers.ContentLength = length;
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await SendAsync(request, name, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Conflict)
            throw new ObjectExistsException(name);
        await EnsureAsync(response, name, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task PutAsync(string name, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        using var request = Request(HttpMethod.Put, name);
        request.Content = new ReadOnlyMemoryContent(data);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await SendAsync(request, name, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Conflict)
            throw new ObjectExistsException(name);
        await EnsureAsync(response, name, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<byte[]> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        using var request = Request(HttpMethod.Get, name);
        using var response = await SendAsync(request, name, cancellationToken).ConfigureAwait(false);
        await EnsureAsync(response, name, cancellationToken).ConfigureAwait(false);
        return await Body(() => response.Content.ReadAsByteArrayAsync(cancellationToken), name).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task ReadRangeAsync(string name, long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (destination.Length == 0)
        {
            if (await StatAsync(name, cancellationToken).ConfigureAwait(false) is null)
                throw new ObjectNotFoundException(name);
            return;
        }

        using var request = Request(HttpMethod.Get, name);
        request.Headers.Range = new RangeHeaderValue(offset, offset + destination.Length - 1);
        using var response = await SendAsync(request, name, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
            throw new ObjectTruncatedException(name, response.Content.Headers.ContentRange?.Length ?? 0, offset + destination.Length);
        await EnsureAsync(response, name, cancellationToken).ConfigureAwait(false);
        await Body(async () =>
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var read = 0;
            while (read < destination.Length)
            {
                var n = await body.ReadAsync(destination[read..], cancellationToken).ConfigureAwait(false);
                if (n == 0)
                    throw new ObjectTruncatedException(name, offset + read, offset + destination.Length);
                read += n;
            }
            return read;
        }, name).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<ObjectInfo?> StatAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        using var request = Request(HttpMethod.Head, name);
        using var response = await SendAsync(request, name, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
            return null;
        await EnsureAsync(response, name, cancellationToken).ConfigureAwait(false);
        return new ObjectInfo(name, response.Content.Headers.ContentLength ?? 0, response.Content.Headers.LastModified ?? DateTimeOffset.MinValue);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectName.ValidatePrefix(prefix);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(portal, AgentRoutes.Store + "?prefix=" + Uri.EscapeDataString(prefix)));
        Authorize(request);
        using var response = await SendAsync(request, prefix, cancellationToken).ConfigureAwait(false);
        await EnsureAsync(response, prefix, cancellationToken).ConfigureAwait(false);
        var entries = await Body(() => response.Content.ReadFromJsonAsync(AgentJson.Default.StoreListEntryArray, cancellationToken), prefix).ConfigureAwait(false)
            ?? [];
        foreach (var entry in entries)
            yield return new ObjectInfo(entry.Name, entry.Length, entry.LastModified);
    }

    /// <inheritdoc />
    public async Task DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        using var request = Request(HttpMethod.Delete, name);
        using var response = await SendAsync(request, name, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
            return;
        await EnsureAsync(response, name, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override string ToString() => sourceMachine is { } source ? $"{root} (machine {source:N}, read-only)" : root.ToString();

    private HttpRequestMessage Request(HttpMethod method, string name)
    {
        var request = new HttpRequestMessage(method, new Uri(root, name));
        Authorize(request);
        return request;
    }

    private void Authorize(HttpRequestMessage request)
    {
        request.Headers.TryAddWithoutValidation("Authorization", authorize());
        if (sourceMachine is { } source)
            request.Headers.TryAddWithoutValidation(AgentRoutes.SourceMachineHeader, source.ToString("N"));
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string name, CancellationToken cancellationToken)
    {
        try
        {
            return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new StoreException($"The portal's store endpoint cannot be reached for '{name}' ({e.Message}).", isTransient: true, e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new StoreException($"The portal's store endpoint did not answer in time for '{name}'.", isTransient: true, e);
        }
    }

    private static async Task<T> Body<T>(Func<Task<T>> read, string name)
    {
        try
        {
            return await read().ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or JsonException)
        {
            throw new StoreException($"The portal's answer for '{name}' broke off ({e.Message}).", isTransient: e is not JsonException, e);
        }
    }

    private static async Task EnsureAsync(HttpResponseMessage response, string name, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
            return;
        string? reason = null;
        try
        {
            reason = (await response.Content.ReadFromJsonAsync(AgentJson.Default.AgentProblem, cancellationToken).ConfigureAwait(false))?.Error;
        }
        catch (Exception e) when (e is JsonException or HttpRequestException or IOException or NotSupportedException or InvalidOperationException)
        {
            // no problem body: the status says it
        }

        var status = (int)response.StatusCode;
        reason ??= $"HTTP {status} {response.ReasonPhrase}";
        throw response.StatusCode switch
        {
            HttpStatusCode.NotFound => new ObjectNotFoundException(name),
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new StoreAccessDeniedException(name, reason),
            HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout => new StoreException($"The portal is busy ({reason}) for '{name}'.", isTransient: true),
            _ when status >= 500 => new StoreException($"The portal's store failed for '{name}': {reason}", isTransient: true),
            _ => new StoreException($"The portal refused '{name}': {reason}", isTransient: false),
        };
    }
}

/// <summary>The portal refused access to an object (401/403): revoked machine, outside its repository, or a delete (permanent).</summary>
public sealed class StoreAccessDeniedException(string name, string reason)
    : StoreException($"The portal refused access to '{name}': {reason}", false)
{
    /// <summary>The object's name.</summary>
    public string ObjectName { get; } = name;

    /// <summary>The portal's reason.</summary>
    public string Reason { get; } = reason;
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[System.Text.Json.Serialization.JsonSerializable(typeof(StoreListEntry[]))]
[System.Text.Json.Serialization.JsonSerializable(typeof(AgentProblem))]
internal sealed partial class AgentJson : System.Text.Json.Serialization.JsonSerializerContext;
