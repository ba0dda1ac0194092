namespace Portal.Engine.Retention;

/// <summary>How often scheduled backups run: every day, or on chosen weekdays; at one to three times; in a time zone.</summary>
/// <param name="Frequency">Daily or weekly.</param>
/// <param name="Days">For weekly schedules, the weekdays with backups.</param>
/// <param name="Times">One to three times of day, in <paramref name="TimeZoneId"/>.</param>
/// <param name="TimeZoneId">An IANA or Windows time zone id, e.g. <c>Europe/Berlin</c>.</param>
public sealed record BackupSchedule(ScheduleFrequency Frequency, IReadOnlyList<DayOfWeek> Days, IReadOnlyList<TimeOnly> Times, string TimeZoneId);

/// <summary>Daily or weekly schedules, as in Azure Backup.</summary>
public enum ScheduleFrequency
{
    /// <summary>Every day.</summary>
    Daily,

    /// <summary>On the chosen weekdays.</summary>
    Weekly,
}

/// <summary>
/// Azure Backup's long-term retention: each tier keeps certain recovery points for a number of its periods.
/// A tier that is null is off. A point kept by several tiers lives until the latest of their dates.
/// </summary>
/// <param name="DailyDays">Keep every scheduled point this many days (7–9,999).</param>
/// <param name="Weekly">Keep the point of chosen weekdays for a number of weeks (4–5,163).</param>
/// <param name="Monthly">Keep one point a month, on a chosen day, for a number of months (1–1,188).</param>
/// <param name="Yearly">Keep one point a year, in chosen months on a chosen day, for a number of years (1–99).</param>
public sealed record RetentionPolicy(int? DailyDays, WeeklyRetention? Weekly = null, MonthlyRetention? Monthly = null, YearlyRetention? Yearly = null);

/// <summary>Keep the first point of each chosen weekday for <paramref name="Weeks"/> weeks.</summary>
public sealed record WeeklyRetention(int Weeks, IReadOnlyList<DayOfWeek> Days);

/// <summary>Keep the point of the day <paramref name="Day"/> selects in each month for <paramref name="Months"/> months.</summary>
public sealed record MonthlyRetention(int Months, DaySelector Day);

/// <summary>Keep the point of the day <paramref name="Day"/> selects in each of <paramref name="InMonths"/> for <paramref name="Years"/> years.</summary>
public sealed record YearlyRetention(int Years, IReadOnlyList<int> InMonths, DaySelector Day);

/// <summary>
/// A day within a month: a day of the month (1–28, or <see cref="Last"/> = 0 for the month's last day), or the
/// first to fourth or last <see cref="Weekday"/> of the month (<see cref="Week"/> 1–4, or 5 for the last).
/// </summary>
public sealed record DaySelector(int? DayOfMonth = null, int? Week = null, DayOfWeek? Weekday = null)
{
    /// <summary>The value of <see cref="DayOfMonth"/> that means the last day of the month.</summary>
    public const int Last = 0;

    /// <summary>The value of <see cref="Week"/> that means the last such weekday of the month.</summary>
    public const int LastWeek = 5;

    /// <summary>The selected date in <paramref name="year"/>/<paramref name="month"/>.</summary>
    public DateOnly In(int year, int month)
    {
        var days = DateTime.DaysInMonth(year, month);
        if (DayOfMonth is { } d)
            return new DateOnly(year, month, d == Last ? days : Math.Min(d, days));
        var weekday = Weekday ?? throw new InvalidOperationException("A week-based day needs a weekday.");
        if (Week == LastWeek)
        {
            var last = new DateOnly(year, month, days);
            return last.AddDays(-(((int)last.DayOfWeek - (int)weekday + 7) % 7));
        }

        var first = new DateOnly(year, month, 1);
        return first.AddDays(((int)weekday - (int)first.DayOfWeek + 7) % 7 + 7 * ((Week ?? 1) - 1));
    }

    /// <inheritdoc />
    public override string ToString() => DayOfMonth switch
    {
        Last => "the last day",
        { } d => $"day {d}",
        null => $"the {(Week == LastWeek ? "last" : new[] { "", "first", "second", "third", "fourth" }[Week ?? 1])} {Weekday}",
    };
}

/// <summary>A recovery point as retention sees it.</summary>
/// <param name="Id">The snapshot id.</param>
/// <param name="Time">When it was taken.</param>
/// <param name="RetainUntil">For on-demand points ("Back up now"), the chosen date; null for scheduled points.</param>
public sealed record RecoveryPointRef(string Id, DateTimeOffset Time, DateTimeOffset? RetainUntil = null)
{
    /// <summary>True for an on-demand point, kept until its own date rather than by the policy.</summary>
    public bool OnDemand => RetainUntil is not null;
}

/// <summary>What retention decided for one point: kept until when, and why.</summary>
/// <param name="Point">The point.</param>
/// <param name="KeepUntil">When it expires (null: kept by no rule, expired now).</param>
/// <param name="Expired">True when it is to be removed at <c>now</c>.</param>
/// <param name="Reasons">The tiers keeping it, e.g. "daily", "weekly", "monthly", "yearly", "on demand".</param>
public sealed record RetentionDecision(RecoveryPointRef Point, DateTimeOffset? KeepUntil, bool Expired, IReadOnlyList<string> Reasons);
