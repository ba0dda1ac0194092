using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Portal.Features.Regions;
using Portal.Tests.Engine.Storage;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Integration;

/// <summary>Upload limits from Storage:Regions: per region, per vault, by work hours, and the mistakes the validator names.</summary>
public sealed class ThrottlingConfigurationTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("portal-throttling-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private StorageOptions Storage()
    {
        var options = TestRegions.Options();
        options.Root = root;
        var east = options.Regions[0];
        east.Throttling = new ThrottlingOptions { WorkHoursMbps = 8, NonWorkHoursMbps = 80, TimeZone = "Europe/Berlin" }; // 1 MB/s, 10 MB/s
        east.VaultThrottling["archive"] = new ThrottlingOptions { WorkHoursMbps = 0.8, NonWorkHoursMbps = 0.8 };        // 100 kB/s
        return options;
    }

    /// <summary>Seconds of (virtual) time that uploading <paramref name="bytes"/> to a vault takes at <paramref name="at"/>.</summary>
    private async Task<double> UploadSecondsAsync(DateTimeOffset at, string region, string vault, int bytes)
    {
        var clock = new JumpingTimeProvider(at);
        var stores = new RegionStores(Options.Create(Storage()), NullLogger<RegionStores>.Instance, clock);
        var store = stores.Vault(Guid.NewGuid(), region, vault);
        for (var i = 0; i < 10; i++)
            await store.PutAsync($"data/{i}", new byte[bytes / 10]);
        return (clock.GetUtcNow() - at).TotalSeconds;
    }

    [Fact]
    public async Task A_regions_work_hours_limit_holds_during_its_work_hours_and_the_other_limit_after()
    {
        var mondayMorning = new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.FromHours(1)); // Berlin
        var mondayNight = new DateTimeOffset(2026, 11, 23, 22, 0, 0, TimeSpan.FromHours(1));
        Assert.InRange(await UploadSecondsAsync(mondayMorning, "east", "finance", 5_000_000), 4.5, 5.5);
        Assert.InRange(await UploadSecondsAsync(mondayNight, "east", "finance", 5_000_000), 0.45, 0.55);
        Assert.InRange(await UploadSecondsAsync(mondayNight, "east", "archive", 500_000), 4.5, 5.5); // the vault's own limit
        Assert.Equal(0, await UploadSecondsAsync(mondayMorning, "central", "finance", 5_000_000)); // no limit configured
    }

    [Fact]
    public void Mistakes_in_the_limits_are_named_at_start()
    {
        var options = Storage();
        options.Regions[0].Throttling = new ThrottlingOptions { WorkHoursMbps = -1, WorkStart = "8 am", WorkEnd = "18:00", TimeZone = "Mars/Olympus" };
        options.Regions[1].Throttling = new ThrottlingOptions { WorkStart = "18:00", WorkEnd = "08:00" };
        var result = new StorageOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        var text = string.Join("\n", result.Failures!);
        Assert.Contains("Storage:Regions:0:Throttling: WorkHoursMbps and NonWorkHoursMbps are megabits per second", text);
        Assert.Contains("Storage:Regions:0:Throttling:WorkStart (\"8 am\") is not a time", text);
        Assert.Contains("TimeZone (\"Mars/Olympus\") is not a known time zone", text);
        Assert.Contains("Storage:Regions:1:Throttling: WorkEnd (08:00) must be after WorkStart (18:00)", text);
        Assert.True(new StorageOptionsValidator().Validate(null, Storage()).Succeeded);
    }
}
