namespace Portal.Engine.Storage;

/// <summary>
/// The storage contract every repository store implements: a flat namespace of immutable objects.
/// </summary>
/// <remarks>
/// <para>Guarantees a provider must give (the conformance suite in Portal.Tests checks them):</para>
/// <list type="bullet">
/// <item><description><b>Atomic, write-once put.</b> After <see cref="PutAsync"/> returns, the whole object is
/// visible; a reader never sees a partial object, even if the writer crashes midway. Putting an existing
/// name with identical content succeeds without change; with different content it throws
/// <see cref="ObjectExistsException"/> and the stored object is left untouched.</description></item>
/// <item><description><b>Read-after-write.</b> Once a put returns, get, stat and list see the object;
/// once a delete returns, they no longer do.</description></item>
/// <item><description><b>Errors.</b> Every failure is a <see cref="StoreException"/>;
/// <see cref="StoreException.IsTransient"/> says whether retrying the same call may succeed.
/// Cancellation surfaces as <see cref="OperationCanceledException"/>.</description></item>
/// </list>
/// <para>Names are relative, '/'-separated, made of <c>[a-z0-9._-]</c> segments (see
/// <see cref="ObjectName.Validate"/>), for example <c>data/3f/3f9a...</c>.</para>
/// </remarks>
public interface IObjectStore
{
    /// <summary>Stores <paramref name="data"/> under <paramref name="name"/> atomically and durably (write-once).</summary>
    Task PutAsync(string name, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    /// <summary>Reads a whole object. Throws <see cref="ObjectNotFoundException"/> if it does not exist.</summary>
    Task<byte[]> GetAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Fills <paramref name="destination"/> with the bytes at <paramref name="offset"/>. Throws <see cref="ObjectNotFoundException"/>
    /// if the object does not exist and <see cref="ObjectTruncatedException"/> if it is shorter than the range.
    /// </summary>
    Task ReadRangeAsync(string name, long offset, Memory<byte> destination, CancellationToken cancellationToken = default);

    /// <summary>Returns the object's size and time of writing, or <c>null</c> if it does not exist.</summary>
    Task<ObjectInfo?> StatAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Lists every object whose name starts with <paramref name="prefix"/> (in no particular order).</summary>
    IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>Deletes an object. Deleting a missing object is not an error.</summary>
    Task DeleteAsync(string name, CancellationToken cancellationToken = default);
}

/// <summary>Conveniences over <see cref="IObjectStore"/>.</summary>
public static class ObjectStoreExtensions
{
    /// <summary>Reads <paramref name="length"/> bytes at <paramref name="offset"/> into a new array (see <see cref="IObjectStore.ReadRangeAsync"/>).</summary>
    public static async Task<byte[]> GetRangeAsync(this IObjectStore store, string name, long offset, int length, CancellationToken cancellationToken = default)
    {
        var buffer = GC.AllocateUninitializedArray<byte>(length);
        await store.ReadRangeAsync(name, offset, buffer, cancellationToken).ConfigureAwait(false);
        return buffer;
    }
}

/// <summary>An object's name, size in bytes and the time it was written (UTC).</summary>
/// <param name="Name">The full object name.</param>
/// <param name="Length">Size in bytes.</param>
/// <param name="LastModified">When the object was written.</param>
public sealed record ObjectInfo(string Name, long Length, DateTimeOffset LastModified);
