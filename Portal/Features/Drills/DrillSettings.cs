using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Features.Common;

namespace Portal.Features.Drills;

/// <summary>A drill schedule as pages and callers set it (UTC times; <see cref="RtoTarget"/> null: no target).</summary>
public sealed record DrillSettings(
    DrillFrequency Frequency, DayOfWeek Day, int DayOfMonth, TimeOnly TimeUtc, DrillSampleKind Sample, long SampleSize, TimeSpan? RtoTarget)
{
    /// <summary>What a new schedule starts from: weekly, Sunday 03:00 UTC, the whole point, no RTO target.</summary>
    public static DrillSettings Default => new(DrillFrequency.Weekly, DayOfWeek.Sunday, 1, new TimeOnly(3, 0), DrillSampleKind.Whole, 0, null);

    public const long MaxSampleFiles = 1_000_000;
    public static readonly TimeSpan MaxRtoTarget = TimeSpan.FromDays(30);

    internal static DrillSettings From(DrillSchedule s) =>
        new(s.Frequency, s.Day, s.DayOfMonth, s.TimeUtc, s.Sample, s.SampleSize, s.RtoTargetMinutes is { } m ? TimeSpan.FromMinutes(m) : null);

    internal void ApplyTo(DrillSchedule s)
    {
        (s.Frequency, s.Day, s.DayOfMonth, s.TimeUtc, s.Sample) = (Frequency, Day, DayOfMonth, new TimeOnly(TimeUtc.Hour, TimeUtc.Minute), Sample);
        s.SampleSize = Sample == DrillSampleKind.Whole ? 0 : SampleSize;
        s.RtoTargetMinutes = RtoTarget is { } t ? (int)Math.Ceiling(t.TotalMinutes) : null;
    }

    /// <summary>What is wrong with these settings, field by field (empty when nothing is).</summary>
    public Dictionary<string, string> Problems()
    {
        var problems = new Dictionary<string, string>();
        if (!Enum.IsDefined(Frequency))
            problems["Frequency"] = "Choose how often the drill runs: off, daily, weekly or monthly.";
        if (!Enum.IsDefined(Day))
            problems["Day"] = "Choose the weekday of the weekly drill.";
        if (Frequency == DrillFrequency.Monthly && DayOfMonth is < 1 or > 28)
            problems["DayOfMonth"] = "A monthly drill runs on a day from 1 to 28 (every month has those).";
        if (Sample == DrillSampleKind.Files && SampleSize is < 1 or > MaxSampleFiles)
            problems["SampleSize"] = $"A sample of files has from 1 to {MaxSampleFiles:N0} files.";
        else if (Sample == DrillSampleKind.Bytes && SampleSize < 1024 * 1024)
            problems["SampleSize"] = "A sample by size restores at least 1 MiB (0.001 GiB).";
        else if (!Enum.IsDefined(Sample))
            problems["Sample"] = "Choose what a drill restores: the whole point, a number of files, or a size.";
        if (RtoTarget is { } rto && (rto < TimeSpan.FromMinutes(1) || rto > MaxRtoTarget))
            problems["RtoTarget"] = "An RTO target is from 1 minute to 30 days.";
        return problems;
    }

    /// <summary>The Quartz cron expression (UTC) of an enabled schedule; null when off.</summary>
    public string? Cron() => Frequency switch
    {
        DrillFrequency.Daily => $"0 {TimeUtc.Minute} {TimeUtc.Hour} ? * *",
        DrillFrequency.Weekly => $"0 {TimeUtc.Minute} {TimeUtc.Hour} ? * {Day.ToString()[..3].ToUpperInvariant()}",
        DrillFrequency.Monthly => $"0 {TimeUtc.Minute} {TimeUtc.Hour} {DayOfMonth} * ?",
        _ => null,
    };

    /// <summary>"Weekly on Sunday at 03:00 UTC, 5 files": the schedule in words.</summary>
    public string Describe() => Frequency switch
    {
        DrillFrequency.Off => "Off",
        DrillFrequency.Daily => $"Daily at {TimeUtc:HH\\:mm} UTC, {DescribeSample()}",
        DrillFrequency.Weekly => $"Weekly on {Day} at {TimeUtc:HH\\:mm} UTC, {DescribeSample()}",
        _ => $"Monthly on day {DayOfMonth} at {TimeUtc:HH\\:mm} UTC, {DescribeSample()}",
    };

    public string DescribeSample() => DescribeSample(Sample, SampleSize);

    public static string DescribeSample(DrillSampleKind sample, long size) => sample switch
    {
        DrillSampleKind.Files => size == 1 ? "1 file" : $"{size:N0} files",
        DrillSampleKind.Bytes => Format.Bytes(size),
        _ => "whole",
    };
}

/// <summary>The drill settings in force for an item: its own, else its policy's, else none.</summary>
public sealed record EffectiveDrillSettings(DrillSettings Settings, string Source, string ConfiguredBy, DateTime ConfiguredAt)
{
    public bool Scheduled => Settings.Frequency != DrillFrequency.Off;

    internal static async Task<EffectiveDrillSettings?> ForItemAsync(PortalDbContext db, Guid itemId, CancellationToken ct)
    {
        var own = await db.DrillSchedules.AsNoTracking().FirstOrDefaultAsync(s => s.ItemId == itemId, ct);
        if (own is not null)
            return new(DrillSettings.From(own), "item", own.UpdatedBy, own.UpdatedAt);
        var policy = await db.BackupItems.AsNoTracking().Where(i => i.Id == itemId).Select(i => new { i.PolicyId, Name = i.Policy!.Name }).FirstOrDefaultAsync(ct);
        if (policy?.PolicyId is null)
            return null;
        var row = await db.DrillSchedules.AsNoTracking().FirstOrDefaultAsync(s => s.PolicyId == policy.PolicyId, ct);
        return row is null ? null : new(DrillSettings.From(row), $"policy {policy.Name}", row.UpdatedBy, row.UpdatedAt);
    }

    /// <summary>Every item's settings in force, at once (items without any are left out).</summary>
    internal static async Task<Dictionary<Guid, EffectiveDrillSettings>> AllAsync(PortalDbContext db, CancellationToken ct)
    {
        var rows = await db.DrillSchedules.AsNoTracking().ToListAsync(ct);
        var byItem = rows.Where(r => r.ItemId is not null).ToDictionary(r => r.ItemId!.Value);
        var byPolicy = rows.Where(r => r.PolicyId is not null).ToDictionary(r => r.PolicyId!.Value);
        var items = await db.BackupItems.AsNoTracking().Select(i => new { i.Id, i.PolicyId, PolicyName = i.Policy!.Name }).ToListAsync(ct);
        var result = new Dictionary<Guid, EffectiveDrillSettings>();
        foreach (var item in items)
        {
            if (byItem.TryGetValue(item.Id, out var own))
                result[item.Id] = new(DrillSettings.From(own), "item", own.UpdatedBy, own.UpdatedAt);
            else if (item.PolicyId is { } p && byPolicy.TryGetValue(p, out var policy))
                result[item.Id] = new(DrillSettings.From(policy), $"policy {item.PolicyName}", policy.UpdatedBy, policy.UpdatedAt);
        }

        return result;
    }
}
