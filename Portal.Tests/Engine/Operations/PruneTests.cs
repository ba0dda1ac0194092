using Portal.Engine;
using Portal.Engine.Operations;
using Portal.Engine.Progress;
using Portal.Engine.Storage;
using Portal.Tests.Engine.Storage;

namespace Portal.Tests.Engine.Operations;

public sealed class PruneTests : IDisposable
{
    private readonly EngineTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    /// <summary>A clock that stands still at a chosen time.</summary>
    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    /// <summary>A clock the test moves by hand (thread-safe).</summary>
    private sealed class ManualTime(DateTimeOffset start) : TimeProvider
    {
        private long _ticks = start.UtcTicks;
        public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);
        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }

    [Fact]
    public async Task A_long_backup_keeps_its_lock_fresh_so_prune_still_stays_away()
    {
        for (var i = 0; i < 12; i++) _kit.Write($"f{i:00}.txt", $"file {i}");
        var clock = new ManualTime(DateTimeOffset.UtcNow);
        var options = EngineTestKit.Options with { Time = clock };
        using (await BackupEngine.InitAsync(_kit.Store, EngineTestKit.Passphrase, options)) { }
        using var backupEngine = await BackupEngine.OpenAsync(_kit.Store, EngineTestKit.Passphrase, options);
        using var pruner = await BackupEngine.OpenAsync(_kit.Store, EngineTestKit.Passphrase, options);
        Exception? pruneOutcome = null;
        var tried = 0;
        var progress = new SyncProgress<OperationProgress>(p =>
        {
            if (p.Phase != OperationPhase.Read || p.CurrentPath is null) return;
            clock.Advance(TimeSpan.FromMinutes(6)); // each file "takes" six minutes: an hour in all
            if (p.FilesDone >= 8 && Interlocked.Exchange(ref tried, 1) == 0) // files finish in parallel: the count can step over 8
            {
                // 48 minutes after the backup started: its first lock would be stale by now.
                try { pruner.PruneAsync().GetAwaiter().GetResult(); }
                catch (Exception e) { pruneOutcome = e; }
            }
        });
        var result = await backupEngine.BackupAsync(new BackupRequest(_kit.Source), progress);
        Assert.IsType<RepositoryLockedException>(pruneOutcome);
        Assert.Equal(OperationStatus.Completed, result.Status);
        Assert.True((await pruner.CheckAsync(readData: true)).IsHealthy);
    }

    [Fact]
    public async Task A_snapshot_kept_until_a_later_time_is_refused_by_forget_whoever_asks_and_prune_keeps_its_data()
    {
        _kit.Write("ledger.bin", EngineTestKit.Random(3 * 1024 * 1024, 41));
        var clock = new ManualTime(new DateTimeOffset(2026, 12, 7, 9, 0, 0, TimeSpan.Zero));
        var options = EngineTestKit.Options with { Time = clock };
        using (await BackupEngine.InitAsync(_kit.Store, EngineTestKit.Passphrase, options)) { }
        using var engine = await BackupEngine.OpenAsync(_kit.Store, EngineTestKit.Passphrase, options);
        var kept = await engine.BackupAsync(new BackupRequest(_kit.Source) { KeepUntil = clock.GetUtcNow().AddDays(30) });
        var free = await engine.BackupAsync(new BackupRequest(_kit.Source));
        Assert.Equal(clock.GetUtcNow().AddDays(30), (await engine.ListSnapshotsAsync()).Single(s => s.Id == kept.SnapshotId).KeepUntil);
        Assert.Null((await engine.ListSnapshotsAsync()).Single(s => s.Id == free.SnapshotId).KeepUntil);

        var refused = await Assert.ThrowsAsync<SnapshotRetainedException>(() => engine.ForgetAsync([free.SnapshotId, kept.SnapshotId]));
        Assert.Equal($"Nothing was removed: snapshot {kept.SnapshotId[..8]} must be kept until 2027-01-06 09:00 UTC (it belongs to an immutable vault, " +
            "which keeps every recovery point until its retention ends). Forget only snapshots whose retention has ended.", refused.Message);
        Assert.Equal(2, (await engine.ListSnapshotsAsync()).Count); // not even the free one went: all or nothing
        Assert.Equal([free.SnapshotId], await engine.ForgetAsync([free.SnapshotId]));
        await engine.PruneAsync();
        var target = _kit.NewTarget();
        Assert.Equal(OperationStatus.Completed, (await engine.RestoreAsync(new RestoreRequest(kept.SnapshotId, target))).Status);
        EngineTestKit.AssertSameTree(_kit.Source, target);

        clock.Advance(TimeSpan.FromDays(30));
        Assert.Equal([kept.SnapshotId], await engine.ForgetAsync([kept.SnapshotId])); // its time has come
    }

    [Fact]
    public async Task Forget_then_prune_removes_only_data_no_snapshot_needs()
    {
        _kit.Write("stays.bin", EngineTestKit.Random(2 * 1024 * 1024, 31));
        _kit.Write("goes.bin", EngineTestKit.Random(4 * 1024 * 1024, 32));
        using var engine = await _kit.InitAsync();
        var first = await engine.BackupAsync(new BackupRequest(_kit.Source));
        File.Delete(Path.Combine(_kit.Source, "goes.bin"));
        var second = await engine.BackupAsync(new BackupRequest(_kit.Source));
        var before = _kit.StoredBytes();

        Assert.Equal([first.SnapshotId], await engine.ForgetAsync([first.SnapshotId[..12]]));
        var prune = await engine.PruneAsync();

        Assert.True(before - _kit.StoredBytes() > 3 * 1024 * 1024, $"freed only {before - _kit.StoredBytes()} bytes");
        Assert.InRange(prune.PacksRepacked, 1, 2); // the packs both files went into (one per backup worker)
        Assert.True((await engine.CheckAsync(readData: true)).IsHealthy);
        var target = _kit.NewTarget();
        Assert.Equal(OperationStatus.Completed, (await engine.RestoreAsync(new RestoreRequest(second.SnapshotId, target))).Status);
        EngineTestKit.AssertSameTree(_kit.Source, target);
        Assert.Single(Directory.GetFiles(Path.Combine(_kit.RepoDir, "index")));
    }

    [Fact]
    public async Task Prune_during_a_backup_is_refused_and_the_backup_loses_nothing()
    {
        var shared = EngineTestKit.Random(3 * 1024 * 1024, 41);
        _kit.Write("shared.bin", shared);
        using (var setup = await _kit.InitAsync())
        {
            var old = await setup.BackupAsync(new BackupRequest(_kit.Source));
            await setup.ForgetAsync([old.SnapshotId]); // shared.bin's chunks are now unreferenced, and about to be reused
        }
        _kit.Write("new.bin", EngineTestKit.Random(1024 * 1024, 42));

        var store = new HookedStore(_kit.Store);
        var packStored = new TaskCompletionSource();
        var resume = new TaskCompletionSource();
        store.AfterPut = async name =>
        {
            if (!name.StartsWith("data/", StringComparison.Ordinal)) return;
            packStored.TrySetResult();
            await resume.Task;
        };
        using var backupEngine = await BackupEngine.OpenAsync(store, EngineTestKit.Passphrase, EngineTestKit.Options);
        var backup = Task.Run(() => backupEngine.BackupAsync(new BackupRequest(_kit.Source)));
        await packStored.Task; // the backup is mid-way: it deduplicated shared.bin against the forgotten data

        using var pruner = await _kit.OpenAsync();
        await Assert.ThrowsAsync<RepositoryLockedException>(() => pruner.PruneAsync());
        resume.SetResult();
        var result = await backup;
        store.AfterPut = null;

        await pruner.PruneAsync(); // now it runs, and must keep what the new snapshot needs
        Assert.True((await pruner.CheckAsync(readData: true)).IsHealthy);
        var target = _kit.NewTarget();
        Assert.Equal(OperationStatus.Completed, (await pruner.RestoreAsync(new RestoreRequest(result.SnapshotId, target))).Status);
        Assert.Equal(shared, await File.ReadAllBytesAsync(Path.Combine(target, "shared.bin")));
    }

    [Fact]
    public async Task A_backup_during_a_prune_is_refused()
    {
        _kit.Write("a.bin", EngineTestKit.Random(100_000, 43));
        using (var setup = await _kit.InitAsync())
        {
            var s = await setup.BackupAsync(new BackupRequest(_kit.Source));
            await setup.ForgetAsync([s.SnapshotId]);
        }
        var store = new HookedStore(_kit.Store);
        var locked = new TaskCompletionSource();
        var resume = new TaskCompletionSource();
        store.AfterPut = async name =>
        {
            if (!name.StartsWith("locks/", StringComparison.Ordinal)) return;
            locked.TrySetResult();
            await resume.Task;
        };
        using var pruner = await BackupEngine.OpenAsync(store, EngineTestKit.Passphrase, EngineTestKit.Options);
        var prune = Task.Run(() => pruner.PruneAsync());
        await locked.Task;
        using var backupEngine = await _kit.OpenAsync();
        var e = await Assert.ThrowsAsync<RepositoryLockedException>(() => backupEngine.BackupAsync(new BackupRequest(_kit.Source)));
        Assert.Contains("prune", e.Message);
        resume.SetResult();
        await prune;
        store.AfterPut = null;
        Assert.Equal(OperationStatus.Completed, (await backupEngine.BackupAsync(new BackupRequest(_kit.Source))).Status);
    }

    /// <summary>
    /// Backs up <paramref name="name"/> with another file, then without it, and forgets the first snapshot: a prune now
    /// has work (the pack the two files share is repacked). Returns the engine and the second snapshot.
    /// </summary>
    private async Task<(BackupEngine Engine, BackupResult Second)> KeepOneFileForgetAnotherAsync(string name, byte[] content)
    {
        _kit.Write(name, content);
        _kit.Write("gone.bin", EngineTestKit.Random(1024 * 1024, 52));
        var engine = await _kit.InitAsync();
        var first = await engine.BackupAsync(new BackupRequest(_kit.Source));
        File.Delete(Path.Combine(_kit.Source, "gone.bin"));
        var second = await engine.BackupAsync(new BackupRequest(_kit.Source));
        await engine.ForgetAsync([first.SnapshotId]);
        return (engine, second);
    }

    [Fact]
    public async Task A_prune_during_a_restore_is_refused_and_the_restore_gets_every_file()
    {
        var keep = EngineTestKit.Random(1024 * 1024, 51);
        var (engine, second) = await KeepOneFileForgetAnotherAsync("keep.bin", keep);
        using var _ = engine;

        using var pruner = await _kit.OpenAsync();
        Exception? pruneOutcome = null;
        var tried = 0;
        var progress = new SyncProgress<OperationProgress>(p =>
        {
            if (p.Phase == OperationPhase.Restore && Interlocked.Exchange(ref tried, 1) == 0)
            {
                try { pruner.PruneAsync().GetAwaiter().GetResult(); }
                catch (Exception e) { pruneOutcome = e; }
            }
        });
        var target = _kit.NewTarget();
        var restored = await engine.RestoreAsync(new RestoreRequest(second.SnapshotId, target), progress);

        Assert.Contains("locked by restore", Assert.IsType<RepositoryLockedException>(pruneOutcome).Message);
        Assert.Equal(OperationStatus.Completed, restored.Status);
        Assert.Empty(restored.Warnings);
        Assert.Equal(keep, await File.ReadAllBytesAsync(Path.Combine(target, "keep.bin")));
        await pruner.PruneAsync(); // the restore released its lock
        Assert.Empty(Directory.GetFiles(Path.Combine(_kit.RepoDir, "locks")));
    }

    /// <summary>A memory stream that runs <paramref name="onFirstWrite"/> before its first write lands.</summary>
    private sealed class FirstWriteHook(Func<Task> onFirstWrite) : MemoryStream
    {
        private int _writes;

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Interlocked.Increment(ref _writes) == 1) await onFirstWrite();
            await base.WriteAsync(buffer, cancellationToken);
        }
    }

    [Fact]
    public async Task A_prune_during_a_download_is_refused_and_the_download_gets_every_byte()
    {
        var keep = EngineTestKit.Random(3 * 1024 * 1024, 53);
        var (engine, second) = await KeepOneFileForgetAnotherAsync("dump.sql", keep);
        using var _ = engine;

        using var pruner = await _kit.OpenAsync();
        Exception? pruneOutcome = null;
        using var download = new FirstWriteHook(async () =>
        {
            try { await pruner.PruneAsync(); }
            catch (Exception e) { pruneOutcome = e; }
        });
        await engine.WriteFileAsync(second.SnapshotId, "dump.sql", download);

        Assert.Contains("locked by download", Assert.IsType<RepositoryLockedException>(pruneOutcome).Message);
        Assert.Equal(keep, download.ToArray());
        await pruner.PruneAsync();
        Assert.Empty(Directory.GetFiles(Path.Combine(_kit.RepoDir, "locks")));
    }

    [Fact]
    public async Task Restore_and_check_go_on_past_a_crashed_prunes_lock_and_say_so()
    {
        _kit.Write("a.txt", "alpha");
        using var engine = await _kit.InitAsync();
        var snapshot = await engine.BackupAsync(new BackupRequest(_kit.Source));
        using var repo = await Portal.Engine.Repository.Repo.OpenAsync(_kit.Store, EngineTestKit.Passphrase, TimeProvider.System, "test", default);
        await Portal.Engine.Repository.RepoLock.AcquireAsync(repo, exclusive: true, "prune", default); // never released: its process died

        var target = _kit.NewTarget();
        var restored = await engine.RestoreAsync(new RestoreRequest(snapshot.SnapshotId, target));
        var check = await engine.CheckAsync(readData: true);

        Assert.Equal(OperationStatus.Completed, restored.Status);
        Assert.Equal("alpha", await File.ReadAllTextAsync(Path.Combine(target, "a.txt")));
        Assert.Contains("locked by prune", Assert.Single(restored.Warnings));
        Assert.True(check.IsHealthy);
        Assert.Contains(check.Notes, n => n.Contains("locked by prune", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_long_restore_whose_lock_cannot_be_refreshed_still_restores_everything_and_says_so()
    {
        for (var i = 0; i < 6; i++) _kit.Write($"f{i}.txt", $"file {i}");
        var clock = new ManualTime(DateTimeOffset.UtcNow);
        var options = EngineTestKit.Options with { Time = clock };
        using (var setup = await BackupEngine.InitAsync(_kit.Store, EngineTestKit.Passphrase, options)) await setup.BackupAsync(new BackupRequest(_kit.Source));
        var store = new HookedStore(_kit.Store);
        using var engine = await BackupEngine.OpenAsync(store, EngineTestKit.Passphrase, options);
        var lockWrites = 0;
        store.BeforePut = name => name.StartsWith("locks/", StringComparison.Ordinal) && Interlocked.Increment(ref lockWrites) > 1
            ? new StoreException("the storage account is unreachable", isTransient: true) : null; // the first lock, then no refresh
        var progress = new SyncProgress<OperationProgress>(p =>
        {
            if (p.Phase == OperationPhase.Restore && p.CurrentPath is not null) clock.Advance(TimeSpan.FromMinutes(6)); // each file "takes" six minutes
        });

        var target = _kit.NewTarget();
        var restored = await engine.RestoreAsync(new RestoreRequest("latest", target), progress);

        Assert.Equal(OperationStatus.Completed, restored.Status);
        EngineTestKit.AssertSameTree(_kit.Source, target);
        Assert.Contains("could not be refreshed (the storage account is unreachable)", Assert.Single(restored.Warnings));
        Assert.Equal(2, lockWrites); // the lock, then one failed refresh: no failing write for every later file
    }

    [Fact]
    public async Task A_restore_from_storage_that_refuses_writes_goes_on_and_says_it_could_not_lock()
    {
        _kit.Write("a.txt", "alpha");
        using (var setup = await _kit.InitAsync()) await setup.BackupAsync(new BackupRequest(_kit.Source));
        var store = new FaultyStore(_kit.Store);
        using var engine = await BackupEngine.OpenAsync(store, EngineTestKit.Passphrase, EngineTestKit.Options);
        store.FailNext(1, transient: false, "read-only file system"); // the lock is the restore's first write

        var target = _kit.NewTarget();
        var restored = await engine.RestoreAsync(new RestoreRequest("latest", target));

        Assert.Equal(OperationStatus.Completed, restored.Status);
        Assert.Equal("alpha", await File.ReadAllTextAsync(Path.Combine(target, "a.txt")));
        Assert.Contains("could not be locked (read-only file system)", Assert.Single(restored.Warnings));
    }

    [Fact]
    public async Task Unindexed_packs_are_kept_during_the_grace_period_and_removed_after_it()
    {
        _kit.Write("a.bin", EngineTestKit.Random(500_000, 44));
        var store = new HookedStore(_kit.Store);
        using (var engine = await BackupEngine.InitAsync(store, EngineTestKit.Passphrase, EngineTestKit.Options))
        {
            // A backup that dies after storing its pack: the index and snapshot puts fail.
            store.BeforePut = name => name.StartsWith("index/", StringComparison.Ordinal) ? new IOException("crash") : null;
            await Assert.ThrowsAsync<IOException>(() => engine.BackupAsync(new BackupRequest(_kit.Source)));
            store.BeforePut = null;
        }
        var orphanBytes = _kit.StoredBytes();
        var orphanPacks = Directory.GetFiles(Path.Combine(_kit.RepoDir, "data"), "*", SearchOption.AllDirectories).Length;
        Assert.True(orphanBytes > 0);
        Assert.InRange(orphanPacks, 1, 2); // one per backup worker at most, for so little data

        using (var now = await BackupEngine.OpenAsync(_kit.Store, EngineTestKit.Passphrase, EngineTestKit.Options))
            Assert.Equal(orphanPacks, (await now.PruneAsync()).PacksKeptInGrace);
        Assert.Equal(orphanBytes, _kit.StoredBytes());

        var later = EngineTestKit.Options with { Time = new FixedTime(DateTimeOffset.UtcNow.AddHours(2)) };
        using (var engine = await BackupEngine.OpenAsync(_kit.Store, EngineTestKit.Passphrase, later))
            Assert.Equal(orphanPacks, (await engine.PruneAsync()).PacksDeleted);
        Assert.Equal(0, _kit.StoredBytes());
    }
}
