using System.Buffers;
using System.Runtime.CompilerServices;

namespace Portal.Engine.Storage;

/// <summary>
/// Gives a store that can only take whole objects (<see cref="IStreamPutStore"/>: the portal's store endpoint, over the
/// network) the staged puts a pack writer streams into (<see cref="IStagedPutStore"/>): each staged object is written to a
/// temporary file in <see cref="Folder"/> (owner-only), and its commit uploads that file, which the retrying store below
/// can send again after a transient failure. The file is deleted when the object is committed or abandoned, and
/// <see cref="Clean"/> removes what a killed process left. A pack therefore costs disk in the folder, not memory.
/// With a <c>memoryBudget</c>, staged objects are first held in memory (pooled 1 MiB segments) while all of them together
/// fit in it, and only an object that would exceed it goes to a file: writing a pack to a file and reading it back costs
/// two copies through the page cache (about a sixth of an agent's CPU in a backup, measured), which a few packs held in
/// memory avoid; a slow upload that lets packs pile up still costs disk, not memory.
/// Every other call goes to the inner store as it is.
/// </summary>
public sealed class SpoolingStore : IStagedPutStore
{
    private const string Marker = "spool-";
    private const int BufferSize = 256 * 1024;
    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const int Segment = 1 << 20;
    private readonly IStreamPutStore inner;
    private readonly long memoryBudget;
    private long memoryHeld;

    /// <summary>
    /// Spools staged objects for <paramref name="inner"/> in <paramref name="folder"/> (created owner-only if missing),
    /// holding up to <paramref name="memoryBudget"/> bytes of them in memory first.
    /// </summary>
    public SpoolingStore(IStreamPutStore inner, string folder, long memoryBudget = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(memoryBudget);
        this.inner = inner;
        this.memoryBudget = memoryBudget;
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
        return Task.FromResult<IStagedObject>(new SpoolFile(this, prefix));
    }

    /// <summary>Takes <paramref name="bytes"/> of the memory budget if they fit in what is left of it.</summary>
    private bool TryHold(long bytes)
    {
        if (Interlocked.Add(ref memoryHeld, bytes) <= memoryBudget)
            return true;
        Interlocked.Add(ref memoryHeld, -bytes);
        return false;
    }

    private void Release(long bytes) => Interlocked.Add(ref memoryHeld, -bytes);

    private FileStream CreateFile(out string temp)
    {
        temp = Path.Combine(Folder, Marker + Guid.NewGuid().ToString("N"));
        try
        {
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew, Access = FileAccess.ReadWrite, Share = FileShare.None, BufferSize = BufferSize, Options = FileOptions.Asynchronous,
            };
            if (!OperatingSystem.IsWindows())
                options.UnixCreateMode = OwnerOnlyFile;
            return new FileStream(temp, options);
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

    /// <summary>One staged object: in pooled memory segments while the budget allows, else in a temporary file.</summary>
    private sealed class SpoolFile(SpoolingStore owner, string prefix) : IStagedObject
    {
        private readonly List<byte[]> segments = [];
        private long held;
        private long length;
        private FileStream? file;
        private string? temp;
        private bool closed;

        public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            ObjectDisposedException.ThrowIf(closed, this);
            if (file is null)
            {
                var room = held - length;
                if (data.Length <= room || owner.TryHold(RoundUp(data.Length - room)))
                {
                    if (data.Length > room)
                        held += RoundUp(data.Length - room);
                    Append(data.Span);
                    return;
                }

                await SpillAsync(cancellationToken).ConfigureAwait(false);
            }

            try
            {
                await file!.WriteAsync(data, cancellationToken).ConfigureAwait(false);
                length += data.Length;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new StoreException($"Writing the temporary file of an upload failed ({e.Message}). Free space in {owner.Folder}.", false, e);
            }
        }

        private static long RoundUp(long bytes) => (bytes + Segment - 1) / Segment * Segment;

        private void Append(ReadOnlySpan<byte> data)
        {
            while (!data.IsEmpty)
            {
                var at = (int)(length % Segment);
                if (at == 0 && length / Segment == segments.Count)
                    segments.Add(ArrayPool<byte>.Shared.Rent(Segment));
                var n = Math.Min(data.Length, Segment - at);
                data[..n].CopyTo(segments[(int)(length / Segment)].AsSpan(at));
                data = data[n..];
                length += n;
            }
        }

        /// <summary>Moves what is held in memory to a temporary file, which takes the rest of the object.</summary>
        private async Task SpillAsync(CancellationToken cancellationToken)
        {
            file = owner.CreateFile(out var path);
            temp = path;
            try
            {
                for (var i = 0; i < segments.Count; i++)
                    await file.WriteAsync(segments[i].AsMemory(0, (int)Math.Min(Segment, length - (long)i * Segment)), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new StoreException($"Writing the temporary file of an upload failed ({e.Message}). Free space in {owner.Folder}.", false, e);
            }
            finally
            {
                ReturnMemory();
            }
        }

        private void ReturnMemory()
        {
            foreach (var segment in segments)
                ArrayPool<byte>.Shared.Return(segment);
            segments.Clear();
            owner.Release(held);
            held = 0;
        }

        public async Task CommitAsync(string name, CancellationToken cancellationToken = default)
        {
            ObjectName.Validate(name);
            if (!name.StartsWith(prefix, StringComparison.Ordinal))
                throw new InvalidObjectNameException(name);
            if (file is null)
            {
                closed = true;
                await owner.inner.PutStreamAsync(name, () => new SegmentStream(segments, length), length, cancellationToken).ConfigureAwait(false);
                return;
            }

            try
            {
                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
                await file.DisposeAsync().ConfigureAwait(false);
                closed = true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new StoreException($"Writing the temporary file of an upload failed ({e.Message}). Free space in {owner.Folder}.", false, e);
            }

            var path = temp!;
            await owner.inner.PutStreamAsync(name, () => new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, useAsync: true), length, cancellationToken)
                .ConfigureAwait(false);
        }

        public async ValueTask DisposeAsync()
        {
            closed = true;
            ReturnMemory();
            if (file is null)
                return;
            await file.DisposeAsync().ConfigureAwait(false);
            try
            {
                File.Delete(temp!);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // removed at the next start (Clean)
            }
        }
    }

    /// <summary>A read-only stream over an object held in segments (each upload attempt opens its own).</summary>
    private sealed class SegmentStream(List<byte[]> segments, long length) : Stream
    {
        private long position;

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => length;

        public override long Position
        {
            get => position;
            set => position = value is >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var total = 0;
            while (!buffer.IsEmpty && position < length)
            {
                var at = (int)(position % Segment);
                var n = (int)Math.Min(Math.Min(buffer.Length, Segment - at), length - position);
                segments[(int)(position / Segment)].AsSpan(at, n).CopyTo(buffer);
                buffer = buffer[n..];
                position += n;
                total += n;
            }

            return total;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => position + offset,
            _ => length + offset,
        };

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
