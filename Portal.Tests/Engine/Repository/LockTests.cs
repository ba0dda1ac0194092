using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using Portal.Engine;
using Portal.Engine.Operations;
using Portal.Engine.Platform;
using Portal.Engine.Progress;
using Portal.Engine.Repository;

namespace Portal.Tests.Engine.Repository;

/// <summary>
/// Locks of ended processes on this machine are stale at once (pid and start time), other machines' locks after the
/// heartbeat timeout, and unlock removes stale locks only (a live one only with force). Issue 23.
/// </summary>
public sealed class LockTests : IDisposable
{
    private readonly EngineTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    private async Task<Repo> SetUpAsync()
    {
        _kit.Write("a.txt", "alpha");
        using (var engine = await _kit.InitAsync()) await engine.BackupAsync(new BackupRequest(_kit.Source));
        return await Repo.OpenAsync(_kit.Store, EngineTestKit.Passphrase, TimeProvider.System, "test", default);
    }

    /// <summary>Writes a prune's lock as another process would have.</summary>
    private static Task<string> PlantPruneLockAsync(Repo repo, string host, int pid, string? space, string? start, DateTimeOffset time) =>
        repo.SaveJsonAsync(Repo.LocksPrefix, new LockFile
        {
            Exclusive = true, Operation = "prune", Host = host, Pid = pid, Space = space, Start = start, Time = time,
        }, RepoJson.Default.LockFile, default);

    /// <summary>A process that really ran on this machine and has ended: its pid and start time.</summary>
    private static async Task<(int Pid, string Start)> EndedProcessAsync()
    {
        using var sleeper = Process.Start(new ProcessStartInfo("sleep", "60"))!;
        var start = ProcessIdentity.StartOf(sleeper.Id);
        Assert.NotNull(start);
        sleeper.Kill();
        await sleeper.WaitForExitAsync();
        return (sleeper.Id, start);
    }

    [Fact]
    public async Task A_lock_of_a_process_that_ended_on_this_machine_blocks_nothing_and_unlock_removes_it()
    {
        Assert.NotNull(ProcessIdentity.Space); // these machines run Linux: the check must be in force
        using var repo = await SetUpAsync();
        var (pid, start) = await EndedProcessAsync();
        await PlantPruneLockAsync(repo, Environment.MachineName, pid, ProcessIdentity.Space, start, DateTimeOffset.UtcNow);

        using var engine = await _kit.OpenAsync();
        var listed = Assert.Single(await engine.ListLocksAsync());
        Assert.Equal("its process on this machine has ended", listed.StaleBecause);
        _kit.Write("b.txt", "beta");
        var backup = await engine.BackupAsync(new BackupRequest(_kit.Source)); // not "locked by prune"
        Assert.Equal(OperationStatus.Completed, backup.Status);

        var unlocked = await engine.UnlockAsync();
        Assert.Equal(listed.ObjectName, Assert.Single(unlocked.Removed).ObjectName);
        Assert.Empty(unlocked.KeptLive);
        Assert.Empty(Directory.GetFiles(Path.Combine(_kit.RepoDir, "locks")));
    }

    [Fact]
    public async Task A_pid_reused_by_a_later_process_is_not_taken_for_the_locks_owner()
    {
        using var repo = await SetUpAsync();
        // This test's own pid is alive, but it is not the process that took the lock: that one started at another time.
        var realStart = ProcessIdentity.StartOf(Environment.ProcessId)!;
        await PlantPruneLockAsync(repo, Environment.MachineName, Environment.ProcessId, ProcessIdentity.Space, realStart + "0", DateTimeOffset.UtcNow);

        using var engine = await _kit.OpenAsync();
        Assert.Equal("its process on this machine has ended", Assert.Single(await engine.ListLocksAsync()).StaleBecause);
        Assert.Equal(OperationStatus.Completed, (await engine.BackupAsync(new BackupRequest(_kit.Source))).Status);
    }

    [Fact]
    public async Task A_live_process_keeps_its_lock_however_old_and_unlock_removes_it_only_with_force()
    {
        using var repo = await SetUpAsync();
        // A prune of this very process, whose lock was last written two hours ago (its refresh could not reach the store).
        var name = await PlantPruneLockAsync(repo, Environment.MachineName, Environment.ProcessId, ProcessIdentity.Space,
            ProcessIdentity.StartOf(Environment.ProcessId), DateTimeOffset.UtcNow.AddHours(-2));

        using var engine = await _kit.OpenAsync();
        var e = await Assert.ThrowsAsync<RepositoryLockedException>(() => engine.BackupAsync(new BackupRequest(_kit.Source)));
        Assert.Contains("locked by prune", e.Message);
        var kept = await engine.UnlockAsync();
        Assert.Empty(kept.Removed);
        Assert.Equal(name, Assert.Single(kept.KeptLive).ObjectName);
        Assert.True(File.Exists(Path.Combine(_kit.RepoDir, name)));

        var forced = await engine.UnlockAsync(force: true);
        Assert.False(Assert.Single(forced.Removed).IsStale);
        Assert.Equal(OperationStatus.Completed, (await engine.BackupAsync(new BackupRequest(_kit.Source))).Status);
    }

    [Fact]
    public async Task Another_machines_lock_blocks_until_it_misses_its_heartbeat_for_thirty_minutes()
    {
        using var repo = await SetUpAsync();
        var written = DateTimeOffset.UtcNow;
        await PlantPruneLockAsync(repo, "other-machine", 4242, "another-boot/pid:[4026531836]", "12345", written);

        var soon = EngineTestKit.Options with { Time = new FakeTimeProvider(written.AddMinutes(29)) };
        using (var engine = await BackupEngine.OpenAsync(_kit.Store, EngineTestKit.Passphrase, soon))
        {
            Assert.Null(Assert.Single(await engine.ListLocksAsync()).StaleBecause);
            await Assert.ThrowsAsync<RepositoryLockedException>(() => engine.BackupAsync(new BackupRequest(_kit.Source)));
        }
        var later = EngineTestKit.Options with { Time = new FakeTimeProvider(written.AddMinutes(31)) };
        using (var engine = await BackupEngine.OpenAsync(_kit.Store, EngineTestKit.Passphrase, later))
        {
            Assert.Equal("not refreshed for more than 30 minutes", Assert.Single(await engine.ListLocksAsync()).StaleBecause);
            Assert.Equal(OperationStatus.Completed, (await engine.BackupAsync(new BackupRequest(_kit.Source))).Status);
        }
    }

    [Fact]
    public async Task A_held_lock_is_rewritten_by_its_heartbeat_while_the_operation_does_nothing_else()
    {
        _kit.Write("a.txt", "alpha");
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using (var engine = await BackupEngine.InitAsync(_kit.Store, EngineTestKit.Passphrase, EngineTestKit.Options with { Time = clock }))
            await engine.BackupAsync(new BackupRequest(_kit.Source));
        using var repo = await Repo.OpenAsync(_kit.Store, EngineTestKit.Passphrase, clock, "test", default);
        await using var held = await RepoLock.AcquireAsync(repo, exclusive: false, "backup", default);
        var first = Assert.Single(await repo.ListNamesAsync(Repo.LocksPrefix, default));

        clock.Advance(RepoLock.RefreshEvery); // the heartbeat fires; no operation called a refresh
        var rewritten = await WaitForAsync(async () =>
            await repo.ListNamesAsync(Repo.LocksPrefix, default) is [var only] && only != first ? only : null);
        var l = await repo.LoadJsonAsync(rewritten, RepoJson.Default.LockFile, default);
        Assert.Equal(clock.GetUtcNow(), l.Time);

        // Forty minutes on (each heartbeat in its time), another machine still sees a live lock.
        for (var i = 0; i < 8; i++)
        {
            var before = (await repo.ListNamesAsync(Repo.LocksPrefix, default)).Single();
            clock.Advance(RepoLock.RefreshEvery);
            await WaitForAsync(async () => await repo.ListNamesAsync(Repo.LocksPrefix, default) is [var only] && only != before ? only : null);
        }
        var last = await repo.LoadJsonAsync((await repo.ListNamesAsync(Repo.LocksPrefix, default)).Single(), RepoJson.Default.LockFile, default);
        Assert.Null(RepoLock.Staleness(new LockFile { Time = last.Time, Pid = 1, Host = "elsewhere" }, clock.GetUtcNow()));
    }

    private static async Task<string> WaitForAsync(Func<Task<string?>> probe)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (await probe() is { } found) return found;
            await Task.Delay(10);
        }
        throw new TimeoutException("the condition was not met within 20 seconds");
    }
}
