using Portal.Engine.Chunking;
using Portal.Engine.Crypto;
using Portal.Engine.Platform;
using Portal.Engine.Progress;
using Portal.Engine.Repository;

namespace Portal.Engine.Operations;

/// <summary>
/// Backup: open the repository (lock, index, snapshots, the parent snapshot), then walk the source folder by folder
/// (<see cref="BackupWalker"/>: unchanged files are not read; copied ones, with a new inode or ctime only, are read
/// and keep the parent's chunks if their fingerprint matches; two readers cut changed files into chunks for a
/// <see cref="ChunkPipeline"/> that hashes, deduplicates, compresses, encrypts and packs on every core; each folder's
/// tree is stored as soon as its entries are known) → packs, then index, then the snapshot last. Memory does not grow
/// with the number of files in a folder or with the depth: see <see cref="BackupWalker"/>.
/// </summary>
internal sealed class BackupOperation(Repo repo)
{
    public async Task<BackupResult> RunAsync(BackupRequest request, IProgress<OperationProgress> progress, CancellationToken ct)
    {
        var source = Path.TrimEndingDirectorySeparator(Path.GetFullPath(request.SourcePath));
        var host = request.Host ?? Environment.MachineName;
        var rootStat = Native.TryLStat(source) ?? throw new DirectoryNotFoundException($"Source folder '{source}' does not exist.");
        if (rootStat.FileType != StatInfo.Directory) throw new IOException($"Source '{source}' is not a folder.");
        var warnings = new List<string>();
        await using var repoLock = await RepoLock.AcquireAsync(repo, exclusive: false, "backup", ct).ConfigureAwait(false);
        var index = await MasterIndex.LoadAsync(repo, ct).ConfigureAwait(false);
        await OrphanPacks.AdoptAsync(repo, index, warnings, ct).ConfigureAwait(false);
        var snapshots = await SnapshotCatalog.LoadAllAsync(repo, ct).ConfigureAwait(false);
        var parent = request.Parent is { } p ? SnapshotCatalog.Resolve(snapshots, p)
            : snapshots.LastOrDefault(s => s.Snapshot.Host == host && s.Snapshot.Paths.SequenceEqual([source]));
        BlobId? parentTree = parent is not null && BlobId.TryParse(parent.Snapshot.Tree, out var pt) ? pt : null;

        progress.Report(new OperationProgress(OperationPhase.Scan, 0, 0, 0, 0));
        await using var packs = new PackWriter(repo, index) { AfterPack = repoLock.RefreshIfDueAsync };
        try
        {
            var walker = new BackupWalker(repo, index, packs, request.Filter, repoLock, warnings, progress);
            var rootTree = await walker.RunAsync(source, rootStat, parentTree, ct).ConfigureAwait(false);
            progress.Report(new OperationProgress(OperationPhase.Finish, walker.ToRead, walker.ToRead, walker.ToReadBytes, walker.ToReadBytes));
            await packs.FlushAsync(ct).ConfigureAwait(false);
            await packs.SaveIndexAsync().ConfigureAwait(false);
            var status = warnings.Count > 0 ? OperationStatus.CompletedWithWarnings : OperationStatus.Completed;
            var snapshot = new Snapshot
            {
                Time = repo.Time.GetUtcNow(), Host = host, User = Environment.UserName, Paths = [source],
                Tree = rootTree.ToHex(), Parent = parent?.Id, Tags = [.. request.Tags], Status = status.ToString(), KeepUntil = request.KeepUntil,
                Summary = new SnapshotSummary
                {
                    Files = walker.Files, Dirs = walker.Dirs, Bytes = walker.Bytes,
                    FilesRead = walker.Files - walker.Unchanged, FilesUnchanged = walker.Unchanged, BlobsAdded = packs.BlobsAdded,
                    BytesAdded = packs.BytesWritten, Warnings = warnings.Count,
                },
            };
            await repoLock.RefreshIfDueAsync(ct).ConfigureAwait(false);
            // Last: once this object exists, the snapshot is visible, and everything it needs is already stored.
            var name = await repo.SaveJsonAsync(Repo.SnapshotsPrefix, snapshot, RepoJson.Default.Snapshot, ct).ConfigureAwait(false);
            progress.Report(OperationProgress.Final(OperationPhase.Finish, walker.ToRead, walker.ToReadBytes));
            var s = snapshot.Summary;
            return new BackupResult
            {
                SnapshotId = name[Repo.SnapshotsPrefix.Length..], Status = status, Warnings = warnings,
                Files = s.Files, Directories = s.Dirs, Bytes = s.Bytes, FilesRead = s.FilesRead,
                FilesUnchanged = s.FilesUnchanged, BlobsAdded = s.BlobsAdded, BytesAdded = s.BytesAdded,
            };
        }
        finally
        {
            // Whatever happened, index the packs that were fully stored so the next backup reuses them.
            await packs.SaveIndexAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>One backup reader's buffer, chunker state and fingerprint hash, reused from file to file.</summary>
internal sealed class BackupFileReader(ChunkStream chunks, long seed)
{
    private readonly System.IO.Hashing.XxHash128 _hash = new(seed);

    /// <summary>
    /// Cuts the file into chunks for the pipeline and returns their list, with the file's fingerprint set; or, for
    /// a file with a <see cref="ScanItem.Candidate"/> whose content reads back with the same size and fingerprint,
    /// keeps the candidate's chunk list and returns null (nothing is cut, hashed with the id key or stored).
    /// </summary>
    public async Task<ChunkList?> ReadAsync(ScanItem file, ChunkPipeline pipeline, CancellationToken ct)
    {
        await using var fs = new FileStream(file.FullPath, new FileStreamOptions
        {
            Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.ReadWrite | FileShare.Delete,
            BufferSize = 0, Options = FileOptions.SequentialScan,
        });
        ChunkList? list = null;
        if (file.Candidate is { } candidate && SameContent(fs, candidate, ct))
        {
            file.Content = candidate.Content;
            file.StoredSize = candidate.Size;
            file.Fingerprint = candidate.Fingerprint;
        }
        else
        {
            if (file.Candidate is not null) fs.Seek(0, SeekOrigin.Begin); // the fingerprint pass did not match
            chunks.Reset(fs);
            _hash.Reset();
            list = new ChunkList();
            while (true)
            {
                var chunk = chunks.Next(ct);
                if (chunk.IsEmpty) break;
                _hash.Append(chunk.Span);
                await pipeline.PostAsync(list, chunk.Span).ConfigureAwait(false);
            }
            file.Fingerprint = Fingerprint();
        }
        file.Xattrs = ScanItem.ReadXattrs(file.FullPath);
        return list;
    }

    private bool SameContent(FileStream fs, Node candidate, CancellationToken ct)
    {
        _hash.Reset();
        var buffer = chunks.Buffer;
        long length = 0;
        int n;
        while ((n = fs.Read(buffer, 0, buffer.Length)) > 0)
        {
            ct.ThrowIfCancellationRequested();
            _hash.Append(buffer.AsSpan(0, n));
            length += n;
            if (length > candidate.Size) return false;
        }
        return length == candidate.Size && Fingerprint() == candidate.Fingerprint;
    }

    private string Fingerprint()
    {
        Span<byte> digest = stackalloc byte[16];
        _hash.GetHashAndReset(digest);
        return Convert.ToHexStringLower(digest);
    }
}
