using System.Globalization;
using Portal.Engine.Storage;
using Portal.Features.Regions;

namespace Portal.Features.Replication;

/// <summary>Replication limits as the vault page shows them (null: no limit).</summary>
public sealed record ReplicationLimits(
    double? WorkHoursMbps, double? OtherHoursMbps, IReadOnlySet<DayOfWeek> WorkDays, TimeOnly WorkStart, TimeOnly WorkEnd, string TimeZone)
{
    /// <summary>The lowest limit, as Azure Backup's agent has it (8 KB/s), and the highest a field takes.</summary>
    public const double MinMbps = 0.064, MaxMbps = 100_000;

    /// <summary>No limit at any time: a pair region without throttling in appsettings.</summary>
    public static ReplicationLimits None => new(null, null, Weekdays, new TimeOnly(8, 0), new TimeOnly(18, 0), "UTC");

    private static readonly IReadOnlySet<DayOfWeek> Weekdays =
        new HashSet<DayOfWeek> { DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday, DayOfWeek.Friday };

    public static ReplicationLimits From(ThrottlingOptions? o) => o is null ? None : new(
        o.WorkHoursMbps is > 0 ? o.WorkHoursMbps : null, o.NonWorkHoursMbps is > 0 ? o.NonWorkHoursMbps : null, o.WorkDays.ToHashSet(),
        TimeOnly.Parse(o.WorkStart, CultureInfo.InvariantCulture), TimeOnly.Parse(o.WorkEnd, CultureInfo.InvariantCulture), o.TimeZone);

    internal static ReplicationLimits From(VaultBandwidthLimits row) => new(row.WorkHoursMbps, row.OtherHoursMbps,
        row.WorkDays.Select(d => (DayOfWeek)d).ToHashSet(), row.WorkStart, row.WorkEnd, row.TimeZone);

    /// <summary>Whether anything is limited at all.</summary>
    public bool Limited => WorkHoursMbps is not null || OtherHoursMbps is not null;

    /// <summary>The engine's schedule; null when nothing is limited.</summary>
    public BandwidthSchedule? ToSchedule() => !Limited ? null : new BandwidthSchedule
    {
        WorkHoursBytesPerSecond = BytesPerSecond(WorkHoursMbps), OtherHoursBytesPerSecond = BytesPerSecond(OtherHoursMbps),
        WorkDays = WorkDays.ToHashSet(), WorkStart = WorkStart, WorkEnd = WorkEnd,
        TimeZone = TimeZoneInfo.TryFindSystemTimeZoneById(TimeZone, out var zone) ? zone : TimeZoneInfo.Utc,
    };

    private static long? BytesPerSecond(double? mbps) => mbps is > 0 ? (long)(mbps.Value * 1_000_000 / 8) : null;

    /// <summary>"8 Mbps during work hours (Monday to Friday, 08:00–18:00 Europe/Berlin), 100 Mbps at other times".</summary>
    public string Describe(string unlimited = "No limit: replication copies as fast as the paired region takes it.")
    {
        if (!Limited)
            return unlimited;
        var hours = WorkDays.Count == 0 ? "no work days" : $"{Days(WorkDays)}, {WorkStart:HH\\:mm}–{WorkEnd:HH\\:mm} {TimeZone}";
        return $"{Rate(WorkHoursMbps)} during work hours ({hours}), {Rate(OtherHoursMbps)} at other times.";
    }

    private static string Rate(double? mbps) => mbps is { } m ? $"at most {m.ToString("0.###", CultureInfo.InvariantCulture)} Mbps" : "no limit";

    private static string Days(IReadOnlySet<DayOfWeek> days)
    {
        var order = new[] { DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday, DayOfWeek.Friday, DayOfWeek.Saturday, DayOfWeek.Sunday };
        if (days.SetEquals(Weekdays)) return "Monday to Friday";
        if (days.Count == 7) return "every day";
        return string.Join(", ", order.Where(days.Contains));
    }
}

/// <summary>What the vault page's dialog sends: the fields as typed, checked by <see cref="ReplicationLimitsService"/>.</summary>
public sealed record ReplicationLimitsRequest(
    string? WorkHoursMbps, string? OtherHoursMbps, IReadOnlyCollection<DayOfWeek> WorkDays, string? WorkStart, string? WorkEnd, string? TimeZone)
{
    public static ReplicationLimitsRequest Of(ReplicationLimits l) => new(
        l.WorkHoursMbps?.ToString("0.###", CultureInfo.InvariantCulture), l.OtherHoursMbps?.ToString("0.###", CultureInfo.InvariantCulture),
        [.. l.WorkDays], l.WorkStart.ToString("HH:mm", CultureInfo.InvariantCulture), l.WorkEnd.ToString("HH:mm", CultureInfo.InvariantCulture), l.TimeZone);

    /// <summary>The limits, or what is wrong field by field (keys are this record's property names).</summary>
    public (ReplicationLimits? Limits, Dictionary<string, string> Problems) Read()
    {
        var problems = new Dictionary<string, string>();
        var work = Rate(WorkHoursMbps, nameof(WorkHoursMbps), "during work hours", problems);
        var other = Rate(OtherHoursMbps, nameof(OtherHoursMbps), "at other times", problems);
        var start = Time(WorkStart, nameof(WorkStart), "08:00", problems);
        var end = Time(WorkEnd, nameof(WorkEnd), "18:00", problems);
        if (start is { } s && end is { } e && e <= s)
            problems[nameof(WorkEnd)] = $"Work hours end after they start: {e:HH\\:mm} is not after {s:HH\\:mm}.";
        if (WorkDays.Any(d => !Enum.IsDefined(d)))
            problems[nameof(WorkDays)] = "Choose work days from Monday to Sunday.";
        else if (work is not null && WorkDays.Count == 0)
            problems[nameof(WorkDays)] = "Choose at least one work day, or leave the work-hours limit empty.";
        var zone = TimeZone?.Trim() ?? "";
        if (zone.Length == 0 || zone.Length > 64 || !TimeZoneInfo.TryFindSystemTimeZoneById(zone, out _))
            problems[nameof(TimeZone)] = zone.Length == 0 ? "Enter the time zone of the work hours, such as UTC or Europe/Berlin."
                : $"\"{(zone.Length > 64 ? zone[..64] + "…" : zone)}\" is not a time zone this server knows; use a name such as UTC or Europe/Berlin.";
        return problems.Count > 0 ? (null, problems) : (new ReplicationLimits(work, other, WorkDays.ToHashSet(), start!.Value, end!.Value, zone), problems);
    }

    private static double? Rate(string? typed, string field, string when, Dictionary<string, string> problems)
    {
        var t = typed?.Trim() ?? "";
        if (t.Length == 0)
            return null;
        if (t.Length > 24 || !double.TryParse(t, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var mbps))
        {
            problems[field] = $"Enter the limit {when} in megabits per second as a number such as 8 or 0.5, or leave it empty for no limit.";
            return null;
        }

        if (mbps == 0)
            return null; // 0 is "no limit", as in appsettings
        if (mbps is < ReplicationLimits.MinMbps or > ReplicationLimits.MaxMbps)
            problems[field] = $"A limit {when} is from {ReplicationLimits.MinMbps} Mbps (8 KB/s) to {ReplicationLimits.MaxMbps:N0} Mbps; leave it empty for no limit.";
        return mbps;
    }

    private static TimeOnly? Time(string? typed, string field, string example, Dictionary<string, string> problems)
    {
        if (TimeOnly.TryParseExact(typed?.Trim(), ["HH:mm", "H:mm"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var time))
            return time;
        problems[field] = $"Enter a time of day such as {example} (24-hour clock).";
        return null;
    }
}
