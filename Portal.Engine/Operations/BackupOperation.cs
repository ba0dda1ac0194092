using System.Text.Json;
using Portal.Engine.Chunking;
using Portal.Engine.Compression;
using Portal.Engine.Crypto;
using Portal.Engine.Progress;
using Portal.Engine.Repository;

namespace Portal.Engine.Operations;

/// <summary>
/// Backup: scan (lstat only) → match the parent snapshot (unchanged files are not read; copied ones, with a new
/// inode or ctime only, are read and keep the parent's chunks if their fingerprint matches) → two readers (read,
/// cut into chunks) feeding a <see cref="ChunkPipeline"/> (keyed hash, dedup, compress, encrypt, pack on every
/// core) → trees bottom-up → packs, then index, then the snapshot last. Memory is bounded by the reader buffers
/// (2 × 1 MiB), the pipeline's channel and the pack writer.
/// </summary>
internal sealed class BackupOperation(Repo repo)
{
    private const int Readers = 2;

    public async Task<BackupResult> RunAsync(BackupRequest request, IProgress<OperationProgress> progress, CancellationToken ct)
    {
        var source = Path.TrimEndingDirectorySeparator(Path.GetFullPath(request.SourcePath));
        var host = request.Host ?? Environment.MachineName;
        // The scan (lstat only) needs nothing from the repository: it runs while the lock, the index and the
        // snapshots load (in a no-change backup these two stages are most of the time).
        using var scanCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var scanWarnings = new List<string>();
        var scan = Task.Run(() => BackupScanner.Scan(source, request.Filter, scanWarnings, scanCts.Token), scanCts.Token);
        RepoLock? repoLock = null;
        MasterIndex index;
        var warnings = new List<string>();
        StoredSnapshot? parent;
        try
        {
            repoLock = await RepoLock.AcquireAsync(repo, exclusive: false, "backup", ct).ConfigureAwait(false);
            index = await MasterIndex.LoadAsync(repo, ct).ConfigureAwait(false);
            await OrphanPacks.AdoptAsync(repo, index, warnings, ct).ConfigureAwait(false);
            var snapshots = await SnapshotCatalog.LoadAllAsync(repo, ct).ConfigureAwait(false);
            parent = request.Parent is { } p ? SnapshotCatalog.Resolve(snapshots, p)
                : snapshots.LastOrDefault(s => s.Snapshot.Host == host && s.Snapshot.Paths.SequenceEqual([source]));
        }
        catch
        {
            await scanCts.CancelAsync().ConfigureAwait(false);
            try { await scan.ConfigureAwait(false); } catch (Exception e) when (e is OperationCanceledException or IOException or UnauthorizedAccessException) { }
            if (repoLock is not null) await repoLock.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        await using var _ = repoLock;

        progress.Report(new OperationProgress(OperationPhase.Scan, 0, 0, 0, 0));
        var root = await scan.ConfigureAwait(false);
        warnings.AddRange(scanWarnings);
        var files = BackupScanner.Files(root).ToList();
        var unchanged = 0L;
        if (parent is not null)
        {
            using var gate = new SemaphoreSlim(Environment.ProcessorCount);
            unchanged = await MatchParentAsync(root, BlobId.Parse(parent.Snapshot.Tree), index, gate, ct).ConfigureAwait(false);
        }
        // The lock goes stale after 30 minutes without a refresh, and a prune may then delete what this
        // backup deduplicated against: refresh it between stages and per file, not only per stored pack.
        await repoLock.RefreshIfDueAsync(ct).ConfigureAwait(false);
        var toRead = files.Where(f => f.Content is null).ToList();
        var totalBytes = toRead.Sum(f => f.Stat.Size);
        progress.Report(new OperationProgress(OperationPhase.Read, 0, toRead.Count, 0, totalBytes));

        await using var packs = new PackWriter(repo, index) { AfterPack = repoLock.RefreshIfDueAsync };
        try
        {
            unchanged += await RunPipelineAsync(toRead, index, packs, warnings, progress, totalBytes, repoLock, ct).ConfigureAwait(false);
            progress.Report(new OperationProgress(OperationPhase.Finish, toRead.Count, toRead.Count, totalBytes, totalBytes));
            var rootTree = await SaveTreesAsync(root, index, packs, ct).ConfigureAwait(false);
            await packs.FlushAsync(ct).ConfigureAwait(false);
            await packs.SaveIndexAsync().ConfigureAwait(false);
            var failed = files.Count(f => f.Failed);
            var status = warnings.Count > 0 ? OperationStatus.CompletedWithWarnings : OperationStatus.Completed;
            var snapshot = new Snapshot
            {
                Time = repo.Time.GetUtcNow(), Host = host, User = Environment.UserName, Paths = [source],
                Tree = rootTree.ToHex(), Parent = parent?.Id, Tags = [.. request.Tags], Status = status.ToString(), KeepUntil = request.KeepUntil,
                Summary = new SnapshotSummary
                {
                    Files = files.Count - failed, Dirs = BackupScanner.CountDirs(root), Bytes = files.Where(f => !f.Failed).Sum(f => f.StoredSize),
                    FilesRead = files.Count - failed - unchanged, FilesUnchanged = unchanged, BlobsAdded = packs.BlobsAdded,
                    BytesAdded = packs.BytesWritten, Warnings = warnings.Count,
                },
            };
            await repoLock.RefreshIfDueAsync(ct).ConfigureAwait(false);
            // Last: once this object exists, the snapshot is visible, and everything it needs is already stored.
            var name = await repo.SaveJsonAsync(Repo.SnapshotsPrefix, snapshot, RepoJson.Default.Snapshot, ct).ConfigureAwait(false);
            progress.Report(OperationProgress.Final(OperationPhase.Finish, toRead.Count, totalBytes));
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


    /// <summary>
    /// Gives unchanged files (same size, mtime, ctime, inode, all chunks indexed) the parent's content, loading the
    /// parent's trees in parallel. A folder whose every entry is unchanged (same names, metadata, content, subtrees)
    /// keeps the parent's tree id, so it is not serialized and hashed again.
    /// </summary>
    private async Task<long> MatchParentAsync(ScanItem dir, BlobId parentTree, MasterIndex index, SemaphoreSlim gate, CancellationToken ct)
    {
        Tree tree;
        await gate.WaitAsync(ct).ConfigureAwait(false);
        try { tree = await Task.Run(() => index.LoadTreeAsync(repo, parentTree, ct), ct).ConfigureAwait(false); }
        catch (RepositoryException) { return 0; } // a damaged parent only costs re-reading
        finally { gate.Release(); }
        var byName = new Dictionary<string, Node>(tree.Nodes.Count, StringComparer.Ordinal);
        foreach (var n in tree.Nodes) byName.TryAdd(n.Name, n);
        var children = dir.Children ?? [];
        var same = byName.Count == children.Count && tree.Nodes.Count == children.Count;
        var subdirs = new List<(ScanItem Child, Node Old, Task<long> Match)>();
        long count = 0;
        foreach (var child in children)
        {
            if (!byName.TryGetValue(child.Name, out var old))
            {
                same = false;
                continue;
            }
            if (child.IsDir && old.Type == Node.Dir && old.Subtree is not null && BlobId.TryParse(old.Subtree, out var sub))
                subdirs.Add((child, old, MatchParentAsync(child, sub, index, gate, ct)));
            else if (child.IsFile && old.Type == Node.File && old.Content is not null && old.Size == child.Stat.Size
                     && old.MtimeNs == child.Stat.MtimeNs && old.CtimeNs == child.Stat.CtimeNs && old.Inode == child.Stat.Inode
                     && AllIndexed(old.Content, index))
            {
                child.Content = old.Content;
                child.StoredSize = old.Size;
                child.Xattrs = old.Xattrs; // setting an attribute changes ctime, so an unchanged file keeps its own
                child.Fingerprint = old.Fingerprint;
                count++;
                same = same && child.SameAs(old, Node.File);
            }
            else if (child.IsFile && old.Type == Node.File && old.Content is not null && old.Fingerprint is not null
                     && old.Size == child.Stat.Size && old.MtimeNs == child.Stat.MtimeNs && AllIndexed(old.Content, index))
            {
                child.Candidate = old; // a copy or a restore: read it, and keep the chunk list if the content is the same
                same = false;
            }
            else if (child.IsSymlink && old.Type == Node.Symlink)
                same = same && old.LinkTarget == child.LinkTarget && child.SameAs(old, Node.Symlink);
            else
                same = false;
        }
        foreach (var (child, old, match) in subdirs)
        {
            count += await match.ConfigureAwait(false);
            same = same && child.UnchangedTree is { } t && t.ToHex() == old.Subtree && child.SameAs(old, Node.Dir);
        }
        if (same) dir.UnchangedTree = parentTree;
        return count;
    }

    private static bool AllIndexed(List<string> content, MasterIndex index)
    {
        foreach (var c in content)
            if (!BlobId.TryParse(c, out var id) || !index.Contains(id)) return false;
        return true;
    }

    /// <summary>
    /// Reads and stores <paramref name="files"/>; returns how many of them kept their parent's chunk list after the
    /// read showed the same content (<see cref="ScanItem.Candidate"/>): those count as unchanged, not as read.
    /// </summary>
    private async Task<long> RunPipelineAsync(List<ScanItem> files, MasterIndex index, PackWriter packs, List<string> warnings,
        IProgress<OperationProgress> progress, long totalBytes, RepoLock repoLock, CancellationToken ct)
    {
        var cdc = repo.CreateChunker();
        var seed = repo.Key.FingerprintSeed();
        var readers = new System.Collections.Concurrent.ConcurrentBag<FileReader>();
        var chunkLists = new ChunkList?[files.Count];
        long filesDone = 0, bytesDone = 0, kept = 0;
        var warningsLock = new Lock();
        await ChunkPipeline.RunAsync(repo, index, packs, (pipeline, cancel) =>
            Parallel.ForEachAsync(Enumerable.Range(0, files.Count), new ParallelOptions { MaxDegreeOfParallelism = Readers, CancellationToken = cancel },
                async (i, token) =>
                {
                    var file = files[i];
                    var reader = readers.TryTake(out var r) ? r : new FileReader(new ChunkStream(cdc, new byte[ChunkStream.BufferSize(cdc.Params)]), seed);
                    try
                    {
                        chunkLists[i] = await reader.ReadAsync(file, pipeline, token).ConfigureAwait(false);
                        Interlocked.Add(ref bytesDone, chunkLists[i]?.Size ?? file.StoredSize);
                        if (chunkLists[i] is null) Interlocked.Increment(ref kept);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        file.Failed = true;
                        lock (warningsLock) warnings.Add($"{file.RelativePath}: cannot read file: {e.Message}");
                    }
                    finally
                    {
                        readers.Add(reader);
                    }
                    await repoLock.RefreshIfDueAsync(token).ConfigureAwait(false);
                    var done = Interlocked.Increment(ref filesDone);
                    progress.Report(new OperationProgress(OperationPhase.Read, done, files.Count, Interlocked.Read(ref bytesDone), totalBytes, file.RelativePath));
                }), ct).ConfigureAwait(false);
        for (var i = 0; i < files.Count; i++)
        {
            if (chunkLists[i] is not { } chunks || files[i].Failed) continue;
            files[i].Content = chunks.ToContent();
            files[i].StoredSize = chunks.Size;
        }
        warnings.Sort(StringComparer.Ordinal);
        return kept;
    }

    /// <summary>One reader's buffer, chunker state and fingerprint hash, reused from file to file.</summary>
    private sealed class FileReader(ChunkStream chunks, long seed)
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

    /// <summary>
    /// Stores every folder's tree bottom-up, one depth at a time, the folders of a depth in parallel (a folder's
    /// subfolders are all deeper, so their ids are known). Folders kept from the parent are not entered.
    /// </summary>
    private async Task<BlobId> SaveTreesAsync(ScanItem root, MasterIndex index, PackWriter packs, CancellationToken ct)
    {
        var depths = new List<List<ScanItem>>();
        var stack = new Stack<(ScanItem Dir, int Depth)>([(root, 0)]);
        while (stack.TryPop(out var entry))
        {
            if (depths.Count <= entry.Depth) depths.Add([]);
            depths[entry.Depth].Add(entry.Dir);
            if (entry.Dir.UnchangedTree is not null) continue;
            foreach (var child in entry.Dir.Children ?? [])
                if (child.IsDir) stack.Push((child, entry.Depth + 1));
        }
        for (var depth = depths.Count - 1; depth >= 0; depth--)
        {
            await Parallel.ForEachAsync(depths[depth], new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = ct },
                async (dir, token) => dir.SavedTree = await SaveTreeAsync(dir, index, packs, token).ConfigureAwait(false)).ConfigureAwait(false);
        }
        return root.SavedTree!.Value;
    }

    private async Task<BlobId> SaveTreeAsync(ScanItem dir, MasterIndex index, PackWriter packs, CancellationToken ct)
    {
        if (dir.UnchangedTree is { } unchangedTree) return unchangedTree;
        var tree = new Tree();
        foreach (var child in dir.Children ?? [])
        {
            if (child.IsDir)
            {
                var node = child.ToNode(Node.Dir);
                node.Subtree = (child.SavedTree ?? throw new InvalidOperationException("subfolder stored after its folder")).ToHex();
                tree.Nodes.Add(node);
            }
            else if (child.IsSymlink)
            {
                var node = child.ToNode(Node.Symlink);
                node.LinkTarget = child.LinkTarget;
                tree.Nodes.Add(node);
            }
            else if (child.IsFile && !child.Failed && child.Content is not null)
            {
                var node = child.ToNode(Node.File);
                node.Content = child.Content;
                tree.Nodes.Add(node);
            }
        }
        var json = JsonSerializer.SerializeToUtf8Bytes(tree, RepoJson.Default.Tree);
        var id = repo.Key.Id(json);
        if (index.TryReserve(id))
            await packs.AddAsync(id, Repo.TreeBlob, BlobCodec.Encode(repo.Key, json, Repo.BlobAad(Repo.TreeBlob, id)), ct).ConfigureAwait(false);
        return id;
    }
}
