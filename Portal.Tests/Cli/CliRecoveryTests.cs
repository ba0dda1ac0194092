using Portal.Tests.Engine;

namespace Portal.Tests.Cli;

/// <summary>
/// The CLI killed with SIGKILL at the worst moment, then the next command run at once, as an operator would after a
/// power cut: nothing waits for a lock to age out, and one documented command clears what is left. Issue 23.
/// </summary>
public sealed class CliRecoveryTests : IDisposable
{
    private readonly EngineTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    private string Locks => Path.Combine(_kit.RepoDir, "locks");

    private static bool HasFiles(string dir) => Directory.Exists(dir) && Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Any();

    /// <summary>A lock object in place (not only the store's temporary file of one being written).</summary>
    private bool HasLock() => Directory.Exists(Locks) && Directory.EnumerateFiles(Locks).Any(f => !Path.GetFileName(f).StartsWith('#'));

    [Fact]
    public async Task A_backup_killed_with_sigkill_leaves_a_lock_that_blocks_neither_prune_nor_the_next_backup_and_unlock_removes_it()
    {
        _kit.Write("small.txt", "kept from the first backup");
        using (var engine = await _kit.InitAsync()) await engine.BackupAsync(new Portal.Engine.Operations.BackupRequest(_kit.Source));
        for (var i = 0; i < 8; i++) _kit.Write($"big/{i}.bin", EngineTestKit.Random(16 * 1024 * 1024, 100 + i)); // seconds of work
        var snapshots = Path.Combine(_kit.RepoDir, "snapshots");
        var before = Directory.GetFiles(snapshots).Length;

        await CliProcess.KillWhenAsync(HasLock, "backup", "--repo", _kit.RepoDir, "--source", _kit.Source);
        Assert.Equal(before, Directory.GetFiles(snapshots).Length); // killed mid-way: no new snapshot
        var left = Assert.Single(Directory.GetFiles(Locks), f => !Path.GetFileName(f).StartsWith('#'));

        var prune = await CliProcess.RunAsync("prune", "--repo", _kit.RepoDir);
        Assert.True(prune.Code == 0, prune.Err); // at once, not 30 minutes later
        var unlock = await CliProcess.RunAsync("unlock", "--repo", _kit.RepoDir);
        Assert.True(unlock.Code == 0, unlock.Err);
        Assert.Contains("removed stale lock: backup on", unlock.Out);
        Assert.Contains("its process on this machine has ended", unlock.Out);
        Assert.False(File.Exists(left));
        Assert.False(HasFiles(Locks));

        var backup = await CliProcess.RunAsync("backup", "--repo", _kit.RepoDir, "--source", _kit.Source);
        Assert.True(backup.Code == 0, backup.Err);
        var check = await CliProcess.RunAsync("check", "--repo", _kit.RepoDir, "--read-data");
        Assert.True(check.Code == 0, check.Out + check.Err);
        var subset = await CliProcess.RunAsync("check", "--repo", _kit.RepoDir, "--read-data-subset", "1/1");
        Assert.True(subset.Code == 0, subset.Out + subset.Err);
        Assert.Contains("blobs verified", subset.Out);
        var wrong = await CliProcess.RunAsync("check", "--repo", _kit.RepoDir, "--read-data-subset", "3/2");
        Assert.Equal(2, wrong.Code);
        Assert.Contains("--read-data-subset needs n/m with 1 <= n <= m <= 10000", wrong.Err);
    }

    [Fact]
    public async Task Unlock_keeps_a_running_backups_lock_and_removes_it_only_with_force_and_a_warning()
    {
        _kit.Write("a.txt", "alpha");
        using var engine = await _kit.InitAsync();
        await engine.BackupAsync(new Portal.Engine.Operations.BackupRequest(_kit.Source));
        // A backup running in this (live) test process: its lock, held across the CLI calls.
        using var repo = await Portal.Engine.Repository.Repo.OpenAsync(_kit.Store, EngineTestKit.Passphrase, TimeProvider.System, "test", default);
        await using var running = await Portal.Engine.Repository.RepoLock.AcquireAsync(repo, exclusive: false, "backup", default);

        var prune = await CliProcess.RunAsync("prune", "--repo", _kit.RepoDir);
        Assert.Equal(11, prune.Code);
        Assert.Contains("locked by backup", prune.Err);
        var kept = await CliProcess.RunAsync("unlock", "--repo", _kit.RepoDir);
        Assert.True(kept.Code == 0, kept.Err);
        Assert.Contains("removed 0 lock(s)", kept.Out);
        Assert.Contains("kept the live lock of backup", kept.Err);
        Assert.True(HasFiles(Locks));

        var forced = await CliProcess.RunAsync("unlock", "--repo", _kit.RepoDir, "--force");
        Assert.True(forced.Code == 0, forced.Err);
        Assert.Contains("removed live lock: backup on", forced.Out);
        Assert.Contains("warning: removed the lock of backup", forced.Err);
        Assert.False(HasFiles(Locks));
    }

    [Fact]
    public async Task A_hostile_key_object_is_named_in_a_warning_and_the_cli_still_opens_the_repository()
    {
        _kit.Write("a.txt", "alpha");
        using (var engine = await _kit.InitAsync()) await engine.BackupAsync(new Portal.Engine.Operations.BackupRequest(_kit.Source));
        var bytes = System.Text.Encoding.UTF8.GetBytes("""{"version":1,"kdf":"argon2id","memoryKiB":16777216,"iterations":1,"parallelism":1,"salt":"AAAAAAAAAAAAAAAAAAAAAA==","wrap":"aes-256-gcm","nonce":"AAAAAAAAAAAAAAAA","wrappedKey":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}""");
        var name = "keys/" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        await _kit.Store.PutAsync(name, bytes);

        var snapshots = await CliProcess.RunAsync("snapshots", "--repo", _kit.RepoDir);
        Assert.True(snapshots.Code == 0, snapshots.Err);
        Assert.Contains($"warning: key object '{name}' was skipped: its key derivation asks for 16384 MiB of memory", snapshots.Err);
        Assert.DoesNotContain("Exception", snapshots.Err);
    }

    [Fact]
    public async Task A_restore_killed_while_replacing_files_leaves_temporary_files_that_say_what_they_are_and_the_rerun_removes_them()
    {
        var files = Enumerable.Range(0, 6).Select(i => (Name: $"f{i}.bin", Data: EngineTestKit.Random(24 * 1024 * 1024, 300 + i))).ToList();
        foreach (var (name, data) in files) _kit.Write(name, data);
        using (var engine = await _kit.InitAsync()) await engine.BackupAsync(new Portal.Engine.Operations.BackupRequest(_kit.Source));
        var target = _kit.NewTarget();
        Directory.CreateDirectory(target);
        foreach (var (name, _) in files) File.WriteAllText(Path.Combine(target, name), "an older version"); // replaced via temporary names

        bool Partial() => Directory.EnumerateFiles(target, ".portal-restore-partial-*").Any();
        await CliProcess.KillWhenAsync(Partial, "restore", "--repo", _kit.RepoDir, "--snapshot", "latest", "--target", target);
        var left = Directory.GetFiles(target, ".portal-restore-*").Select(Path.GetFileName).ToList();
        Assert.NotEmpty(left);
        Assert.All(left, n => Assert.Matches(@"^\.portal-restore-partial-[0-9a-f]{8}-\d+-\d+-[0-9a-f]{8}-f\d\.bin$", n!)); // owner and file named

        var rerun = await CliProcess.RunAsync("restore", "--repo", _kit.RepoDir, "--snapshot", "latest", "--target", target);
        Assert.True(rerun.Code == 0, rerun.Err);
        Assert.Empty(Directory.GetFiles(target, ".portal-restore-*"));
        foreach (var (name, data) in files) Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(target, name)));
    }
}
