using System.Buffers;
using System.IO.Pipelines;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Portal.Engine.Agents;
using Portal.Engine.Storage;

namespace Portal.Features.Machines.Access;

/// <summary>
/// The agents' append-only store endpoint (<see cref="AgentRoutes.Store"/>): GET (whole or one range), HEAD, list, PUT
/// write-once with content-addressed names checked, DELETE only of <c>locks/</c>. See docs/agent-protocol.md.
/// </summary>
public static class MachineStoreEndpoint
{
    /// <summary>The largest object a machine may put (the engine's packs aim at 16 MiB).</summary>
    public const long MaxObjectBytes = 128L * 1024 * 1024;

    private const int RangeSlice = 1024 * 1024;

    /// <summary>How much of an upload the portal holds before writing it on (a local disk takes slices of this size cheaply).</summary>
    private const int WriteSlice = 256 * 1024;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Maps the store routes, for machines only.</summary>
    public static IEndpointRouteBuilder MapMachineStore(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapMethods(AgentRoutes.Store, [HttpMethods.Get], HandleAsync).RequireAuthorization(MachinePolicies.Agent);
        endpoints.MapMethods(AgentRoutes.Store + "/{**name}", [HttpMethods.Get, HttpMethods.Head, HttpMethods.Put, HttpMethods.Delete], HandleAsync)
            .RequireAuthorization(MachinePolicies.Agent);
        return endpoints;
    }

    /// <summary>
    /// The object name a store request names, from the request target as sent (so that an encoded <c>..</c> or <c>/</c>
    /// is judged as the client wrote it, not as the server normalized it); empty for the listing; null when the request
    /// is not for the store.
    /// </summary>
    internal static string? RequestedName(HttpContext http)
    {
        var raw = http.Features.Get<IHttpRequestFeature>()?.RawTarget;
        var path = string.IsNullOrEmpty(raw) || raw[0] != '/' ? (http.Request.PathBase + http.Request.Path).ToUriComponent() : raw;
        var query = path.IndexOf('?', StringComparison.Ordinal);
        if (query >= 0)
            path = path[..query];
        if (path.Equals(AgentRoutes.Store, StringComparison.OrdinalIgnoreCase))
            return "";
        if (!path.StartsWith(AgentRoutes.Store + "/", StringComparison.OrdinalIgnoreCase))
            return null;
        try
        {
            return Uri.UnescapeDataString(path[(AgentRoutes.Store.Length + 1)..]);
        }
        catch (UriFormatException)
        {
            return "\0"; // not a name: refused by validation
        }
    }

    /// <summary>Whether <paramref name="name"/> is a valid object name (<see cref="ObjectName.Validate"/>).</summary>
    internal static bool IsValidName(string name)
    {
        try
        {
            ObjectName.Validate(name);
            return true;
        }
        catch (InvalidObjectNameException)
        {
            return false;
        }
    }

    internal static string InvalidName(string name) =>
        $"'{(name.Length > 100 ? name[..100] + "…" : name)}' is not an object name: names are '/'-separated parts of a-z, 0-9, '.', '_' and '-', " +
        "none empty, '.' or '..'. Update the agent.";

    private static async Task HandleAsync(HttpContext http, MachineStoreAccess access, ILoggerFactory loggers)
    {
        AgentAnswers.NoStatusPages(http);
        var ct = http.RequestAborted;
        var name = RequestedName(http) ?? "";
        try
        {
            if (name.Length == 0 && !HttpMethods.IsGet(http.Request.Method))
                throw new AgentRefusedException(400, "Name the object: " + AgentRoutes.Store + "/{name}.");
            if (name.Length > 0 && !IsValidName(name))
                throw new AgentRefusedException(400, InvalidName(name));
            var target = await access.ResolveAsync(http.User, http.Request.Headers[AgentRoutes.SourceMachineHeader], ct);
            var method = http.Request.Method;
            if (target.ReadOnly && !HttpMethods.IsGet(method) && !HttpMethods.IsHead(method))
                throw new AgentRefusedException(403,
                    $"A restore grant reads machine {target.MachineId:N}'s backups; it cannot change them.");
            if (name.Length == 0)
                await ListAsync(http, target.Store, ct);
            else if (HttpMethods.IsHead(method))
                await HeadAsync(http, target.Store, name, ct);
            else if (HttpMethods.IsGet(method))
                await GetAsync(http, target.Store, name, ct);
            else if (HttpMethods.IsPut(method))
                await PutAsync(http, target.Store, name, ct);
            else
                await DeleteAsync(http, target.Store, name, ct);
        }
        catch (AgentRefusedException e) when (!http.Response.HasStarted)
        {
            await AgentAnswers.WriteAsync(http, e.Status, e.Message);
        }
        catch (ObjectNotFoundException) when (!http.Response.HasStarted)
        {
            await AgentAnswers.WriteAsync(http, 404, $"There is no object '{name}' in this repository.");
        }
        catch (ObjectExistsException) when (!http.Response.HasStarted)
        {
            await AgentAnswers.WriteAsync(http, 409, $"An object named '{name}' already exists with other bytes: objects are written once, never replaced.");
        }
        catch (StoreException e) when (!http.Response.HasStarted && !ct.IsCancellationRequested)
        {
            loggers.CreateLogger(typeof(MachineStoreEndpoint)).LogWarning(
                "Store request {Method} '{Name}' of machine {Machine} failed: {Reason}", http.Request.Method, name, http.User.MachineId(), e.Message);
            await AgentAnswers.WriteAsync(http, e.IsTransient ? 503 : 500, e.IsTransient
                ? "The vault's storage did not answer in time; try again (the agent retries by itself)."
                : "The vault's storage refused the request; the portal's log has the details. Tell the portal's administrator.");
        }
        catch (Exception e) when (!http.Response.HasStarted && e is not OperationCanceledException)
        {
            loggers.CreateLogger(typeof(MachineStoreEndpoint)).LogError(e, "Store request {Method} '{Name}' of machine {Machine} failed", http.Request.Method, name,
                http.User.MachineId());
            await AgentAnswers.WriteAsync(http, 500, "The portal failed on this request; its log has the details. The agent tries again later.");
        }
    }

    private static async Task HeadAsync(HttpContext http, IObjectStore store, string name, CancellationToken ct)
    {
        var info = await store.StatAsync(name, ct) ?? throw new ObjectNotFoundException(name);
        http.Response.StatusCode = 200;
        http.Response.ContentLength = info.Length;
        http.Response.Headers.LastModified = info.LastModified.ToString("R");
        http.Response.ContentType = "application/octet-stream";
    }

    private static async Task GetAsync(HttpContext http, IObjectStore store, string name, CancellationToken ct)
    {
        var rangeHeader = http.Request.Headers.Range.ToString();
        if (rangeHeader.Length == 0)
        {
            var bytes = await store.GetAsync(name, ct);
            http.Response.StatusCode = 200;
            http.Response.ContentType = "application/octet-stream";
            http.Response.ContentLength = bytes.Length;
            await http.Response.Body.WriteAsync(bytes, ct);
            return;
        }

        if (!RangeHeaderValue.TryParse(rangeHeader, out var range) || !string.Equals(range.Unit, "bytes", StringComparison.OrdinalIgnoreCase)
            || range.Ranges.Count != 1 || range.Ranges.First() is not { From: { } from } one || (one.To is { } to0 && to0 < from))
            throw new AgentRefusedException(400, "Ask for one range of bytes: Range: bytes=FIRST-LAST.");
        var info = await store.StatAsync(name, ct) ?? throw new ObjectNotFoundException(name);
        if (from >= info.Length)
        {
            http.Response.Headers.ContentRange = $"bytes */{info.Length}";
            throw new AgentRefusedException(416, $"'{name}' has {info.Length} bytes; the range asked for starts at byte {from}.");
        }

        var last = Math.Min(one.To ?? info.Length - 1, info.Length - 1);
        http.Response.StatusCode = 206;
        http.Response.ContentType = "application/octet-stream";
        http.Response.ContentLength = last - from + 1;
        http.Response.Headers.ContentRange = $"bytes {from}-{last}/{info.Length}";
        var buffer = new byte[(int)Math.Min(RangeSlice, last - from + 1)];
        for (var offset = from; offset <= last;)
        {
            var length = (int)Math.Min(buffer.Length, last - offset + 1);
            await store.ReadRangeAsync(name, offset, buffer.AsMemory(0, length), ct);
            await http.Response.Body.WriteAsync(buffer.AsMemory(0, length), ct);
            offset += length;
        }
    }

    private static async Task ListAsync(HttpContext http, IObjectStore store, CancellationToken ct)
    {
        var prefix = http.Request.Query["prefix"].ToString();
        if (prefix.Length > 0 && !IsValidName(prefix.TrimEnd('/')))
            throw new AgentRefusedException(400, InvalidName(prefix));
        http.Response.StatusCode = 200;
        http.Response.ContentType = "application/json";
        // Streamed: the serializer flushes as its buffer fills, so a repository of many objects is never held whole.
        await JsonSerializer.SerializeAsync(http.Response.Body, Entries(store, prefix, ct), Json, ct);
    }

    private static async IAsyncEnumerable<StoreListEntry> Entries(IObjectStore store, string prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var info in store.ListAsync(prefix, ct))
            yield return new StoreListEntry(info.Name, info.Length, info.LastModified);
    }

    private static async Task PutAsync(HttpContext http, IObjectStore store, string name, CancellationToken ct)
    {
        var expectedHash = StoreNames.ContentAddress(name);
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = MaxObjectBytes;
        var length = http.Request.ContentLength;
        if (length > MaxObjectBytes)
            throw TooLarge(name);
        if (expectedHash is not null && store is IStagedPutStore { CanStageNamed: true } staged)
            await PutStagedAsync(http.Request, staged, name, expectedHash, ct);
        else
            await PutBufferedAsync(http.Request.Body, store, name, length, expectedHash, ct);
        http.Response.StatusCode = 200;
    }

    /// <summary>
    /// Streams the body into a staged object of the store (on local replicas, a temporary file each; on Azure Blob
    /// replicas, 4 MiB blocks of the named blob), hashing as it
    /// goes: the portal holds one slice of the object, not the object, and the object appears only when its bytes match
    /// its name. The body is read from Kestrel's pipe (<see cref="HttpRequest.BodyReader"/>): each received segment is
    /// copied once, into the slice that is hashed and written when full (a local disk takes 256 KiB writes cheaply,
    /// Kestrel's 4 KiB segments dearly).
    /// </summary>
    private static async Task PutStagedAsync(HttpRequest request, IStagedPutStore store, string name, string expectedHash, CancellationToken ct)
    {
        await using var staging = await store.BeginNamedPutAsync(name, ct);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var reader = request.BodyReader;
        var slice = ArrayPool<byte>.Shared.Rent(WriteSlice);
        try
        {
            long total = 0;
            var filled = 0;
            while (true)
            {
                var result = await ReadAsync(reader, name, ct);
                var buffer = result.Buffer;
                total += buffer.Length;
                if (total > MaxObjectBytes)
                    throw TooLarge(name);
                foreach (var segment in buffer)
                {
                    for (var span = segment; !span.IsEmpty;)
                    {
                        var take = Math.Min(span.Length, WriteSlice - filled);
                        span.Span[..take].CopyTo(slice.AsSpan(filled));
                        filled += take;
                        span = span[take..];
                        if (filled == WriteSlice)
                        {
                            sha.AppendData(slice, 0, filled);
                            await staging.WriteAsync(slice.AsMemory(0, filled), ct);
                            filled = 0;
                        }
                    }
                }

                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                    break;
            }

            if (filled > 0)
            {
                sha.AppendData(slice, 0, filled);
                await staging.WriteAsync(slice.AsMemory(0, filled), ct);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(slice);
        }

        if (!string.Equals(Convert.ToHexStringLower(sha.GetHashAndReset()), expectedHash, StringComparison.Ordinal))
            throw NotItsName(name);
        await staging.CommitAsync(name, ct);
    }

    private static async Task PutBufferedAsync(Stream body, IObjectStore store, string name, long? length, string? expectedHash, CancellationToken ct)
    {
        var bytes = await ReadBodyAsync(body, length, name, ct);
        if (expectedHash is not null && !string.Equals(Convert.ToHexStringLower(SHA256.HashData(bytes)), expectedHash, StringComparison.Ordinal))
            throw NotItsName(name);
        await store.PutAsync(name, bytes, ct);
    }

    private static AgentRefusedException NotItsName(string name) => new(400,
        $"The bytes sent for '{name}' do not hash (SHA-256) to its name: the object was damaged on the way or the agent is faulty. Nothing was stored.");

    /// <summary>One read of the request body, its failures in the agent's words (too large, broke off).</summary>
    private static async Task<int> ReadAsync(Stream body, Memory<byte> into, string name, CancellationToken ct)
    {
        try
        {
            return await body.ReadAsync(into, ct);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge(name);
        }
        catch (Exception e) when (e is EndOfStreamException or IOException && !ct.IsCancellationRequested)
        {
            throw BrokeOff(name);
        }
    }

    /// <summary>One read of the request body's pipe, its failures in the agent's words.</summary>
    private static async Task<ReadResult> ReadAsync(PipeReader reader, string name, CancellationToken ct)
    {
        try
        {
            var result = await reader.ReadAsync(ct);
            if (result.IsCanceled)
                throw new OperationCanceledException(ct);
            return result;
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge(name);
        }
        catch (Exception e) when (e is BadHttpRequestException or EndOfStreamException or IOException && !ct.IsCancellationRequested)
        {
            throw BrokeOff(name);
        }
    }

    private static AgentRefusedException BrokeOff(string name) =>
        new(400, $"The upload of '{name}' broke off before its end: nothing was stored; send it again.");

    private static async Task<byte[]> ReadBodyAsync(Stream body, long? length, string name, CancellationToken ct)
    {
        if (length is { } known)
        {
            var bytes = GC.AllocateUninitializedArray<byte>((int)known);
            for (var filled = 0; filled < bytes.Length;)
            {
                var read = await ReadAsync(body, bytes.AsMemory(filled), name, ct);
                if (read == 0)
                    throw BrokeOff(name);
                filled += read;
            }

            return bytes;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int n;
        while ((n = await ReadAsync(body, chunk, name, ct)) > 0)
        {
            if (buffer.Length + n > MaxObjectBytes)
                throw TooLarge(name);
            buffer.Write(chunk, 0, n);
        }

        return buffer.ToArray();
    }

    private static AgentRefusedException TooLarge(string name) =>
        new(413, $"'{name}' is larger than {MaxObjectBytes / (1024 * 1024)} MiB, the most one object may be (the engine's packs aim at 16 MiB): update the agent.");

    private static async Task DeleteAsync(HttpContext http, IObjectStore store, string name, CancellationToken ct)
    {
        if (!name.StartsWith("locks/", StringComparison.Ordinal))
            throw new AgentRefusedException(403, "Machines cannot delete backup data; retention runs in the portal.");
        await store.DeleteAsync(name, ct);
        http.Response.StatusCode = 204;
    }
}

/// <summary>The object names the engine writes into a repository, and which of them are named by the SHA-256 of their bytes.</summary>
internal static class StoreNames
{
    private static readonly string[] Hashed = ["keys/", "index/", "snapshots/", "locks/"];

    /// <summary>
    /// The hex SHA-256 the body of <paramref name="name"/> must have, or null for <c>config</c> (write-once anyway); an
    /// <see cref="AgentRefusedException"/> (400) for a name the engine never writes. Packs are <c>data/XX/HASH</c> (XX: the
    /// hash's first two digits; PackWriter names a pack by the SHA-256 of all its bytes); keys, indexes, snapshots and locks
    /// are <c>PREFIX/HASH</c> of their sealed bytes (Repo.SaveSealedAsync, Repo.AddKeyAsync).
    /// </summary>
    public static string? ContentAddress(string name)
    {
        if (name == "config")
            return null;
        if (name.StartsWith("data/", StringComparison.Ordinal))
        {
            var parts = name.Split('/');
            if (parts.Length == 3 && IsHash(parts[2]) && parts[1] == parts[2][..2])
                return parts[2];
        }
        else if (Hashed.FirstOrDefault(p => name.StartsWith(p, StringComparison.Ordinal)) is { } prefix && IsHash(name[prefix.Length..]))
        {
            return name[prefix.Length..];
        }

        throw new AgentRefusedException(400,
            $"'{name}' is not an object of a backup repository (config, keys/HASH, data/XX/HASH, index/HASH, snapshots/HASH or locks/HASH): update the agent.");
    }

    private static bool IsHash(string text) => text.Length == 64 && text.All(char.IsAsciiHexDigitLower);
}
