using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Portal.Features.BackupCenter;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Policies;
using Portal.Features.Protection;
using Portal.Features.Regions;
using Portal.Features.Reports;
using Portal.Features.Telemetry;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.BackupCenter;

/// <summary>A real backup into a real vault: its storage is measured from the store, reported, and seen in metrics and traces.</summary>
public sealed class StorageAndTelemetryTests : ProtectionHostTest
{

    [Fact]
    public async Task A_backup_is_measured_in_the_vaults_storage_reported_per_day_and_counted_in_metrics_and_traces()
    {
        var vaultName = "center-" + Guid.NewGuid().ToString("N")[..8]; // metrics are process-wide: this test's vault tags its own
        var finished = new ConcurrentBag<(string Status, long Value)>();
        var backedUp = new ConcurrentBag<long>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == PortalTelemetry.Name) listener.EnableMeasurementEvents(instrument);
        };
        meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var t = tags.ToArray().ToDictionary(x => x.Key, x => x.Value?.ToString());
            if (t.GetValueOrDefault("vault") != vaultName) return;
            if (instrument.Name == "portal.jobs.finished") finished.Add((t["status"]!, value));
            if (instrument.Name == "portal.backup.bytes") backedUp.Add(value);
        });
        meters.Start();
        var spans = new ConcurrentBag<Activity>();
        using var traces = new ActivityListener
        {
            ShouldListenTo = s => s.Name == PortalTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => { if (a.GetTagItem("portal.vault") as string == vaultName) spans.Add(a); },
        };
        ActivitySource.AddActivityListener(traces);

        var (vault, policy) = await NewVaultAsync(vaultName);
        var source = Path.Combine(host.SourceRoot, "share");
        Directory.CreateDirectory(source);
        for (var i = 0; i < 5; i++)
            await File.WriteAllBytesAsync(Path.Combine(source, $"f{i}.bin"), RandomBytes(100_000 + i));
        var item = await host.Protection(ann).ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "share", source, null, null, Passphrase, Passphrase));
        var job = await host.Protection(ann).BackUpNowAsync(item.Item.Id, DateTime.UtcNow.AddDays(30));
        Assert.Equal(JobStatus.Completed, (await host.WaitForJobAsync(job.Id, j => j.Status.IsFinished())).Status);

        var meter = new StorageMeter(database.Factory, host.Services.GetRequiredService<RegionStores>(), host.Services.GetRequiredService<RegionCatalog>(),
            Options.Create(new BackupCenterOptions()), TimeProvider.System, NullLogger<StorageMeter>.Instance);
        await meter.MeasureAllAsync(CancellationToken.None);

        // The measurement is what the region's replica folder really holds for this vault.
        var folder = Path.Combine(root, "regions", "east", "1", RegionStores.VaultPrefix(vault.Id));
        var onDisk = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        await using (var db = database.Factory.CreateDbContext())
        {
            var usage = await db.StorageUsage.SingleAsync(s => s.VaultId == vault.Id);
            Assert.Equal(("east", onDisk), (usage.Region, usage.Bytes));
            Assert.True(onDisk > 500_000, $"the vault holds the encrypted data ({onDisk} bytes)");
        }

        var reports = new ReportService(database.Factory, new FixedCurrentUser(ann), TimeProvider.System);
        var today = ReportRange.Last(1, DateTime.UtcNow);
        Assert.Equal([onDisk], (await reports.StoragePerDayAsync(today, vault.Id)).Select(r => r.Bytes));
        var itemDay = Assert.Single(await reports.ItemStoragePerDayAsync(today, vault.Id));
        Assert.Equal(("share", 1), (itemDay.Item, itemDay.RecoveryPoints));
        Assert.True(itemDay.ProtectedBytes >= 500_010 && itemDay.AddedBytes > 500_000);
        Assert.Equal(itemDay.AddedBytes, (await reports.TransferPerDayAsync(today, vault.Id)).Single().AddedToVaultBytes);

        Assert.Contains(("Completed", 1L), finished);
        Assert.True(backedUp.Sum() >= 500_010, $"bytes backed up counted: {backedUp.Sum()}");
        var span = Assert.Single(spans, s => s.DisplayName == "Backup job");
        Assert.Equal("Completed", span.GetTagItem("portal.job.status"));
        Assert.True(span.Duration > TimeSpan.Zero);
    }

    private static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }
}
