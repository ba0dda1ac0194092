namespace Portal.Engine.Storage;

/// <summary>
/// Optional ability of a store: put an object from a source that can be opened again from its start (a file), so that
/// the object is sent without being held in memory and a transient failure can send it again (restic's retry backend
/// rewinds its reader the same way). The write-once rule of <see cref="IObjectStore.PutAsync"/> applies.
/// </summary>
public interface IStreamPutStore : IObjectStore
{
    /// <summary>
    /// Whether <see cref="PutStreamAsync"/> works. A provider that implements this interface can (the default); a decorator
    /// implements it always and answers for the store it wraps.
    /// </summary>
    bool CanPutStream => true;

    /// <summary>
    /// Stores the <paramref name="length"/> bytes that <paramref name="open"/> reads under <paramref name="name"/>.
    /// <paramref name="open"/> is called once per attempt and must return a new stream at the source's start each time; the
    /// store disposes it.
    /// </summary>
    Task PutStreamAsync(string name, Func<Stream> open, long length, CancellationToken cancellationToken = default);
}
