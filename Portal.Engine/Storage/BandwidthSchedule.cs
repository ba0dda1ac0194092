namespace Portal.Engine.Storage;

/// <summary>
/// Upload limits by time of week, as Azure Backup's MARS agent sets them: one limit during work hours, another at all
/// other times. Work hours are <see cref="WorkStart"/> to <see cref="WorkEnd"/> (local time of <see cref="TimeZone"/>)
/// on <see cref="WorkDays"/>. A null limit means no limit.
/// </summary>
public sealed record BandwidthSchedule
{
    /// <summary>Bytes per second during work hours (null: unlimited).</summary>
    public long? WorkHoursBytesPerSecond { get; init; }

    /// <summary>Bytes per second outside work hours (null: unlimited).</summary>
    public long? OtherHoursBytesPerSecond { get; init; }

    /// <summary>The work days (default Monday to Friday).</summary>
    public IReadOnlySet<DayOfWeek> WorkDays { get; init; } =
        new HashSet<DayOfWeek> { DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday, DayOfWeek.Friday };

    /// <summary>Start of work hours, local time (default 08:00).</summary>
    public TimeOnly WorkStart { get; init; } = new(8, 0);

    /// <summary>End of work hours, local time, exclusive (default 18:00).</summary>
    public TimeOnly WorkEnd { get; init; } = new(18, 0);

    /// <summary>The time zone work hours are in (default UTC).</summary>
    public TimeZoneInfo TimeZone { get; init; } = TimeZoneInfo.Utc;

    /// <summary>Whether <paramref name="now"/> falls in work hours.</summary>
    public bool IsWorkTime(DateTimeOffset now)
    {
        var local = TimeZoneInfo.ConvertTime(now, TimeZone);
        var time = TimeOnly.FromDateTime(local.DateTime);
        return WorkDays.Contains(local.DayOfWeek) && time >= WorkStart && time < WorkEnd;
    }

    /// <summary>The limit in force at <paramref name="now"/> in bytes per second, or null for none.</summary>
    public long? LimitAt(DateTimeOffset now) => IsWorkTime(now) ? WorkHoursBytesPerSecond : OtherHoursBytesPerSecond;
}
