using System.Diagnostics;
using Portal.Engine.Operations;
using Portal.Engine.Storage;

namespace Portal.Tests.Engine.Storage;

/// <summary>The conformance suite through the throttling decorator (with a limit high enough not to slow it), staged puts included.</summary>
public sealed class ThrottledLocalStoreTests : ObjectStoreConformanceTests
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "portal-store-tests", Guid.NewGuid().ToString("N"));

    protected override Task<IObjectStore> CreateStoreAsync() =>
        Task.FromResult<IObjectStore>(new ThrottledStore(new LocalDirectoryStore(_root), new TokenBucket(_ => 1L << 40)));

    protected override Task DisposeStoreAsync()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }
}

/// <summary>The upload limit is held, by work hours and other hours, and staged uploads keep streaming behind it.</summary>
[Collection(RealTimeCollection.Name)]
public sealed class ThrottlingTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private readonly EngineTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Fact]
    public async Task A_minute_long_transfer_in_virtual_time_is_held_within_ten_percent_of_the_limit()
    {
        // 64 KiB/s for 3.75 MiB is exactly 60 s. The clock jumps to each wait's end, so the minute passes in milliseconds
        // and only the bucket's pacing is measured (the local store's own time does not count).
        const long rate = 64 * 1024;
        var clock = new JumpingTimeProvider(new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero));
        var store = new ThrottledStore(new LocalDirectoryStore(Path.Combine(_kit.Root, "store")), new TokenBucket(_ => rate, clock));
        var start = clock.GetUtcNow();
        long sent = 0;
        for (var i = 0; sent < 60 * rate; i++)
        {
            var size = 40_000 + i * 7919 % 90_000; // objects of uneven sizes, as packs are
            size = (int)Math.Min(size, 60 * rate - sent);
            await store.PutAsync($"data/{i:x4}", EngineTestKit.Random(size, i));
            sent += size;
        }

        var elapsed = (clock.GetUtcNow() - start).TotalSeconds;
        var measured = sent / elapsed;
        output.WriteLine($"virtual time: {sent:N0} bytes in {elapsed:F2} s = {measured:N0} B/s at a limit of {rate:N0} B/s");
        Assert.InRange(measured, rate * 0.9, rate * 1.1);
        Assert.InRange(elapsed, 54, 66);
    }

    [Fact]
    public async Task A_real_backup_through_the_throttle_takes_the_time_the_limit_says_and_streams_its_packs()
    {
        // A few seconds of real time: 2 MiB of incompressible data at 1 MiB/s, through staged puts to a real folder.
        const long rate = 1024 * 1024;
        _kit.Write("random.bin", EngineTestKit.Random(2 * 1024 * 1024, 7));
        var hooked = HookedStore.Create(new LocalDirectoryStore(Path.Combine(_kit.Root, "store")), staged: true);
        long? limit = null; // unlimited while the repository is made, so only the backup is timed
        var store = new ThrottledStore(hooked, new TokenBucket(_ => limit));
        Assert.True(store.CanStage);
        using var engine = await Portal.Engine.BackupEngine.InitAsync(store, EngineTestKit.Passphrase, EngineTestKit.Options);
        limit = rate;
        var watch = Stopwatch.StartNew();
        var result = await engine.BackupAsync(new BackupRequest(_kit.Source));
        watch.Stop();
        var expected = result.BytesAdded / (double)rate;
        output.WriteLine($"real time: {result.BytesAdded:N0} bytes of packs in {watch.Elapsed.TotalSeconds:F2} s, {expected:F2} s at the limit");
        Assert.InRange(watch.Elapsed.TotalSeconds, expected * 0.9, expected * 1.1 + 0.5); // + the backup's own work
        Assert.NotEmpty(hooked.StagedCommits);
        Assert.DoesNotContain(hooked.Puts, n => n.StartsWith("data/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Reads_are_not_limited()
    {
        var clock = new JumpingTimeProvider(DateTimeOffset.UnixEpoch);
        var inner = new LocalDirectoryStore(Path.Combine(_kit.Root, "store"));
        await inner.PutAsync("data/big", EngineTestKit.Random(1024 * 1024, 1));
        var store = new ThrottledStore(inner, new TokenBucket(_ => 1024, clock));
        Assert.Equal(1024 * 1024, (await store.GetAsync("data/big")).Length);
        Assert.Equal(DateTimeOffset.UnixEpoch, clock.GetUtcNow());
    }

    [Theory]
    [InlineData("2026-11-23T09:30:00+01:00", 100L)] // Monday, work hours in Berlin
    [InlineData("2026-11-23T07:59:00+01:00", 900L)] // Monday, before work
    [InlineData("2026-11-23T18:00:00+01:00", 900L)] // Monday, work ends at 18:00
    [InlineData("2026-11-28T10:00:00+01:00", 900L)] // Saturday
    public void The_work_hours_limit_applies_on_work_days_between_the_work_hours_of_the_zone(string at, long expected)
    {
        var schedule = new BandwidthSchedule
        {
            WorkHoursBytesPerSecond = 100, OtherHoursBytesPerSecond = 900, TimeZone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin"),
        };
        Assert.Equal(expected, schedule.LimitAt(DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public async Task The_rate_follows_the_schedule_when_work_hours_end()
    {
        // 17:59:30 on a Monday: 30 s at 1 KiB/s of work hours, then 10 KiB/s.
        var clock = new JumpingTimeProvider(new DateTimeOffset(2026, 11, 23, 17, 59, 30, TimeSpan.Zero));
        var schedule = new BandwidthSchedule { WorkHoursBytesPerSecond = 1024, OtherHoursBytesPerSecond = 10 * 1024 };
        var store = new ThrottledStore(new LocalDirectoryStore(Path.Combine(_kit.Root, "store")), new TokenBucket(schedule.LimitAt, clock));
        for (var i = 0; i < 30; i++)
            await store.PutAsync($"a/{i}", new byte[1024]);
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 18, 0, 0, TimeSpan.Zero), clock.GetUtcNow());
        for (var i = 0; i < 30; i++)
            await store.PutAsync($"b/{i}", new byte[10 * 1024]);
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 18, 0, 30, TimeSpan.Zero), clock.GetUtcNow());
    }
}

/// <summary>A clock that jumps forward to the end of each timer it is asked for, so waits take no real time.</summary>
internal sealed class JumpingTimeProvider(DateTimeOffset start) : TimeProvider
{
    private readonly Lock gate = new();
    private long ticks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow()
    {
        lock (gate) return new DateTimeOffset(ticks, TimeSpan.Zero);
    }

    public override long GetTimestamp()
    {
        lock (gate) return ticks;
    }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            lock (gate) ticks += dueTime.Ticks;
            ThreadPool.QueueUserWorkItem(_ => callback(state));
        }

        return new NoTimer();
    }

    private sealed class NoTimer : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => true;
        public void Dispose() { }
        public ValueTask DisposeAsync() => default;
    }
}

/// <summary>
/// Tests that measure real elapsed time run alone, after the parallel ones: a backup's own work takes much longer
/// while a dozen other test classes back up and restore on the same two cores.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RealTimeCollection
{
    public const string Name = "real time";
}
