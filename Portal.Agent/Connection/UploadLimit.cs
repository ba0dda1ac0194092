using Portal.Engine.Agents;
using Portal.Engine.Storage;

namespace Portal.Agent.Connection;

/// <summary>
/// The machine's upload limits as the portal last sent them (<see cref="AgentSettings"/>): one in work hours, another
/// outside them, in the machine's local time, as Azure's agent throttling. One <see cref="TokenBucket"/> paces every
/// upload of the agent and reads the limit in force on every take, so a <c>Settings</c> push applies at once.
/// </summary>
internal sealed class UploadLimit
{
    private volatile BandwidthSchedule? schedule;

    /// <summary>A bucket over the current limits.</summary>
    public UploadLimit(TimeProvider? time = null) => Bucket = new TokenBucket(now => schedule?.LimitAt(now), time);

    /// <summary>The bucket every upload takes its bytes from.</summary>
    public TokenBucket Bucket { get; }

    /// <summary>Applies the portal's settings.</summary>
    public void Apply(AgentSettings settings) => schedule = Schedule(settings, TimeZoneInfo.Local);

    /// <summary>The limit in force at <paramref name="now"/> in bytes per second (null: none).</summary>
    public long? LimitAt(DateTimeOffset now) => schedule?.LimitAt(now);

    /// <summary>The schedule of <paramref name="settings"/> (null when neither limit is set).</summary>
    internal static BandwidthSchedule? Schedule(AgentSettings settings, TimeZoneInfo zone)
    {
        if (settings.UploadKiBPerSecond is not > 0 && settings.OffHoursUploadKiBPerSecond is not > 0)
            return null;
        var schedule = new BandwidthSchedule
        {
            WorkHoursBytesPerSecond = settings.UploadKiBPerSecond > 0 ? settings.UploadKiBPerSecond * 1024L : null,
            OtherHoursBytesPerSecond = settings.OffHoursUploadKiBPerSecond > 0 ? settings.OffHoursUploadKiBPerSecond * 1024L : null,
            TimeZone = zone,
        };
        if (settings.WorkDayStart is { } start)
            schedule = schedule with { WorkStart = start };
        if (settings.WorkDayEnd is { } end)
            schedule = schedule with { WorkEnd = end };
        if (settings.WorkDays is { Count: > 0 } days)
            schedule = schedule with { WorkDays = days.Where(d => d is >= 0 and <= 6).Select(d => (DayOfWeek)d).ToHashSet() };
        return schedule;
    }

    /// <summary>The limits in words, for the agent's log.</summary>
    public static string Describe(AgentSettings settings) =>
        settings.UploadKiBPerSecond is null && settings.OffHoursUploadKiBPerSecond is null ? "no upload limit"
            : $"upload limit {Limit(settings.UploadKiBPerSecond)} in work hours ({settings.WorkDayStart ?? new TimeOnly(8, 0):HH:mm}-{settings.WorkDayEnd ?? new TimeOnly(18, 0):HH:mm}), " +
              $"{Limit(settings.OffHoursUploadKiBPerSecond)} outside them";

    private static string Limit(int? kib) => kib is > 0 ? $"{kib} KiB/s" : "none";
}
