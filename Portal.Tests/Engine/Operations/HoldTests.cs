using Portal.Engine;
using Portal.Engine.Operations;
using Portal.Engine.Regions;
using Portal.Engine.Replication;
using Portal.Engine.Storage;

namespace Portal.Tests.Engine.Operations;

/// <summary>
/// Holds on snapshots written before their vault became immutable: forget refuses a held snapshot as one written with its
/// own keep-until, holds only grow, check and prune leave them, and replication carries them to the paired region.
/// </summary>
public sealed class HoldTests : IDisposable
{
    private readonly EngineTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Fact]
    public async Task A_held_snapshot_is_refused_by_forget_until_its_time_holds_only_grow_and_check_and_prune_keep_them()
    {
        _kit.Write("a.txt", "alpha");
        using var engine = await _kit.InitAsync();
        var old = await engine.BackupAsync(new BackupRequest(_kit.Source));
        _kit.Write("b.txt", "beta");
        var other = await engine.BackupAsync(new BackupRequest(_kit.Source));
        var until = DateTimeOffset.UtcNow.AddDays(30);

        Assert.Equal(1, await engine.HoldAsync(new Dictionary<string, DateTimeOffset> { [old.SnapshotId[..8]] = until }));
        Assert.Equal(1, await engine.HoldAsync(new Dictionary<string, DateTimeOffset> { [old.SnapshotId] = until.AddDays(-10) })); // a shorter hold changes nothing

        var refused = await Assert.ThrowsAsync<SnapshotRetainedException>(() => engine.ForgetAsync([old.SnapshotId, other.SnapshotId]));
        Assert.Contains($"snapshot {old.SnapshotId[..8]} must be kept until {until.UtcDateTime:yyyy-MM-dd HH:mm} UTC", refused.Message);
        Assert.Equal(2, (await engine.ListSnapshotsAsync()).Count); // nothing was removed
        Assert.Equal(until, (await engine.ListSnapshotsAsync()).Single(s => s.Id == old.SnapshotId).KeepUntil);

        await engine.ForgetAsync([other.SnapshotId]); // the one not held goes
        await engine.PruneAsync();
        var check = await engine.CheckAsync(readData: true);
        Assert.True(check.IsHealthy, string.Join("; ", check.Problems));
        using var reopened = await _kit.OpenAsync();
        await Assert.ThrowsAsync<SnapshotRetainedException>(() => reopened.ForgetAsync([old.SnapshotId]));
        Assert.Single(Directory.GetFiles(Path.Combine(_kit.RepoDir, "holds"), "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_hold_with_no_end_refuses_forget_until_it_is_released_and_dated_holds_stay()
    {
        _kit.Write("a.txt", "alpha");
        using var engine = await _kit.InitAsync();
        var dated = await engine.BackupAsync(new BackupRequest(_kit.Source));
        _kit.Write("b.txt", "beta");
        var open = await engine.BackupAsync(new BackupRequest(_kit.Source));
        var until = DateTimeOffset.UtcNow.AddDays(7);

        Assert.Equal(2, await engine.HoldAsync(new Dictionary<string, DateTimeOffset> { [dated.SnapshotId] = until }, [open.SnapshotId[..8]]));
        var refused = await Assert.ThrowsAsync<SnapshotRetainedException>(() => engine.ForgetAsync([open.SnapshotId]));
        Assert.Contains($"snapshot {open.SnapshotId[..8]} is held with no end date", refused.Message);
        Assert.True((await engine.ListSnapshotsAsync()).Single(s => s.Id == open.SnapshotId).HeldUntilReleased);
        Assert.Equal(2, await engine.HoldAsync(new Dictionary<string, DateTimeOffset>())); // a later write keeps the hold with no end

        Assert.Equal(1, await engine.ReleaseHoldsAsync());
        Assert.Equal([open.SnapshotId], await engine.ForgetAsync([open.SnapshotId]));
        await Assert.ThrowsAsync<SnapshotRetainedException>(() => engine.ForgetAsync([dated.SnapshotId])); // dated holds stay until their time
        Assert.Equal(0, await engine.ReleaseHoldsAsync());
    }

    [Fact]
    public async Task Replication_carries_holds_to_the_paired_region()
    {
        var east = new LocalDirectoryStore(Path.Combine(_kit.Root, "east"));
        var west = new LocalDirectoryStore(Path.Combine(_kit.Root, "west"));
        var vaultId = Guid.NewGuid();
        _kit.Write("a.txt", "alpha");
        string snapshot;
        using (var engine = await BackupEngine.InitAsync(VaultLayout.Open(east, vaultId), EngineTestKit.Passphrase, EngineTestKit.Options))
        {
            snapshot = (await engine.BackupAsync(new BackupRequest(_kit.Source))).SnapshotId;
            await engine.HoldAsync(new Dictionary<string, DateTimeOffset> { [snapshot] = DateTimeOffset.UtcNow.AddDays(7) });
        }

        await new RegionReplicator(VaultLayout.Open(east, vaultId), VaultLayout.Open(west, vaultId)).ReplicateAsync();

        using var secondary = await BackupEngine.OpenAsync(VaultLayout.Open(west, vaultId), EngineTestKit.Passphrase, EngineTestKit.Options);
        await Assert.ThrowsAsync<SnapshotRetainedException>(() => secondary.ForgetAsync([snapshot]));
    }
}
