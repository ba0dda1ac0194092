namespace Portal.Engine.Storage;

/// <summary>
/// Optional ability of a store: write an object piece by piece and name it at the end (a pack's name is the
/// hash of its bytes), so a writer never holds a whole object in memory. Local files: a temporary file
/// renamed into place; Azure Blob: staged blocks committed under the final name.
/// </summary>
public interface IStagedPutStore : IObjectStore
{
    /// <summary>
    /// Whether <see cref="BeginPutAsync"/> works. A provider that implements this interface can (the default); a
    /// decorator (retry, prefix) implements it always and answers for the store it wraps, so staged uploads are
    /// not lost behind it. Callers check this before staging; otherwise they buffer and use <see cref="IObjectStore.PutAsync"/>.
    /// </summary>
    bool CanStage => true;

    /// <summary>Starts an object that will be committed under a name starting with <paramref name="prefix"/> (e.g. "data/").</summary>
    Task<IStagedObject> BeginPutAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>
    /// Whether <see cref="BeginNamedPutAsync"/> works: as <see cref="CanStage"/> by default; a store that can stage only
    /// against the final name (Azure Blob's blocks) answers true here and false there. Decorators answer for the store they wrap.
    /// </summary>
    bool CanStageNamed => CanStage;

    /// <summary>
    /// Starts an object whose name is known before its bytes (the portal's store endpoint: a content-addressed name is in
    /// the request), to be committed under exactly <paramref name="name"/>. A store that must stage against the final name
    /// (Azure Blob: Put Block, then Put Block List) needs it; the default stages under the name's folder with <see cref="BeginPutAsync"/>.
    /// </summary>
    Task<IStagedObject> BeginNamedPutAsync(string name, CancellationToken cancellationToken = default)
    {
        ObjectName.Validate(name);
        return BeginPutAsync(name[..(name.LastIndexOf('/') + 1)], cancellationToken);
    }
}

/// <summary>An object being written. Invisible until <see cref="CommitAsync"/>; disposing without committing discards it.</summary>
public interface IStagedObject : IAsyncDisposable
{
    /// <summary>Appends bytes.</summary>
    ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes the object visible under <paramref name="name"/>, atomically and durably, with the write-once rule of
    /// <see cref="IObjectStore.PutAsync"/>: an existing object with identical bytes is fine, different bytes throw
    /// <see cref="ObjectExistsException"/>.
    /// </summary>
    Task CommitAsync(string name, CancellationToken cancellationToken = default);
}
