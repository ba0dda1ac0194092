using System.Runtime.CompilerServices;

namespace Portal.Engine.Storage;

/// <summary>
/// Gives a store that can only take whole objects (<see cref="IStreamPutStore"/>: the portal's store endpoint, over the
/// network) the staged puts a pack writer streams into (<see cref="IStagedPutStore"/>): each staged object is written to a
/// temporary file in <see cref="Folder"/> (owner-only), and its commit uploads that file, which the retrying store below
/// can send again after a transient failure. The file is deleted when the object is committed or abandoned, and
/// <see cref="Clean"/> removes what a killed process left. A pack therefore costs disk in the folder, not memory.
/// Every other call goes to the inner store as it is.
/// </summary>
public sealed class SpoolingStore : IStagedPutStore
{
    private const string Marker = "spool-";
    private const int BufferSize = 256 * 1024;
    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private readonly IStreamPutStore inner;

    /// <summary>Spools staged objects for <paramref name="inner"/> in <paramref name="folder"/> (created owner-only if missing).</summary>
    public SpoolingStore(IStreamPutStore inner, string folder)
    {
        this.inner = inner;
        Folder = Path.GetFullPath(folder);
        if (OperatingSystem.IsWindows())
            Directory.CreateDirectory(Folder);
        else
            Directory.CreateDirectory(Folder, OwnerOnlyFolder);
    }

    /// <summary>Where the temporary files are.</summary>
    public string Folder { get; }

    /// <summary>Deletes the temporary files a stopped process left in <paramref name="folder"/> (call before any store uses it); how many.</summary>
    public static int Clean(string folder)
    {
        if (!Directory.Exists(folder))
            return 0;
        var removed = 0;
        foreach (var file in Directory.EnumerateFiles(folder, Marker + "*"))
        {
            try
            {
                File.Delete(file);
                removed++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // in use or not ours to delete: left alone
            }
        }

        return removed;
    }

    /// <inheritdoc />
    public bool CanStage => inner.CanPutStream;

    /// <inheritdoc />
    public Task<IStagedObject> BeginPutAsync(string prefix, CancellationToken cancellationToken = default)
    {
        ObjectName.ValidatePrefix(prefix);
        var temp = Path.Combine(Folder, Marker + Guid.NewGuid().ToString("N"));
        try
        {
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew, Access = FileAccess.ReadWrite, Share = FileShare.None, BufferSize = BufferSize, Options = FileOptions.Asynchronous,
            };
            if (!OperatingSystem.IsWindows())
                options.UnixCreateMode = OwnerOnlyFile;
            return Task.FromResult<IStagedObject>(new SpoolFile(inner, prefix, temp, new FileStream(temp, options)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreException($"A temporary file for an upload cannot be made in {Folder} ({e.Message}). Free space there, or check its permissions.", false, e);
        }
    }

    /// <inheritdoc />
    public Task PutAsync(string name, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => inner.PutAsync(name, data, cancellationToken);

    /// <inheritdoc />
    public Task<byte[]> GetAsync(string name, CancellationToken cancellationToken = default) => inner.GetAsync(name, cancellationToken);

    /// <inheritdoc />
    public Task ReadRangeAsync(string name, long offset, Memory<byte> destination, CancellationToken cancellationToken = default) =>
        inner.ReadRangeAsync(name, offset, destination, cancellationToken);

    /// <inheritdoc />
    public Task<ObjectInfo?> StatAsync(string name, CancellationToken cancellationToken = default) => inner.StatAsync(name, cancellationToken);

    /// <inheritdoc />
    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var info in inner.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
            yield return info;
    }

    /// <inheritdoc />
    public Task DeleteAsync(string name, CancellationToken cancellationToken = default) => inner.DeleteAsync(name, cancellationToken);

    /// <inheritdoc />
    public override string ToString() => inner.ToString() ?? nameof(SpoolingStore);

    private sealed class SpoolFile(IStreamPutStore inner, string prefix, string temp, FileStream file) : IStagedObject
    {
        private bool closed;

        public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            try
            {
                await file.WriteAsync(data, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new StoreException($"Writing the temporary file of an upload failed ({e.Message}). Free space in {Path.GetDirectoryName(temp)}.", false, e);
            }
        }

        public async Task CommitAsync(string name, CancellationToken cancellationToken = default)
        {
            ObjectName.Validate(name);
            if (!name.StartsWith(prefix, StringComparison.Ordinal))
                throw new InvalidObjectNameException(name);
            long length;
            try
            {
                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
                length = file.Length;
                await file.DisposeAsync().ConfigureAwait(false);
                closed = true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new StoreException($"Writing the temporary file of an upload failed ({e.Message}). Free space in {Path.GetDirectoryName(temp)}.", false, e);
            }

            await inner.PutStreamAsync(name, () => new FileStream(temp, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, useAsync: true), length, cancellationToken)
                .ConfigureAwait(false);
        }

        public async ValueTask DisposeAsync()
        {
            if (!closed)
                await file.DisposeAsync().ConfigureAwait(false);
            try
            {
                File.Delete(temp);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // removed at the next start (Clean)
            }
        }
    }
}
