using Portal.Engine.Retention;
using Quartz;

namespace Portal.Features.Policies;

/// <summary>A policy's schedule as Quartz cron expressions, its next run, and the recovery point objective it implies.</summary>
public static class PolicySchedules
{
    private static readonly string[] DayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

    /// <summary>One Quartz cron expression per scheduled time of day.</summary>
    public static IReadOnlyList<string> CronExpressions(BackupSchedule schedule)
    {
        var days = schedule.Frequency == ScheduleFrequency.Weekly && schedule.Days.Count > 0
            ? string.Join(",", schedule.Days.Distinct().Order().Select(d => DayNames[(int)d]))
            : "*";
        return [.. schedule.Times.Distinct().Order().Select(t => $"0 {t.Minute} {t.Hour} ? * {days}")];
    }

    /// <summary>The schedule's time zone (UTC when the server does not know it; the policy rules refuse that on save).</summary>
    public static TimeZoneInfo Zone(BackupSchedule schedule)
    {
        PolicyRules.TryZone(schedule.TimeZoneId, out var zone);
        return zone;
    }

    /// <summary>The first scheduled run after <paramref name="afterUtc"/>.</summary>
    public static DateTime? NextRunUtc(BackupSchedule schedule, DateTime afterUtc)
    {
        var zone = Zone(schedule);
        DateTimeOffset? next = null;
        foreach (var expression in CronExpressions(schedule))
        {
            var cron = new CronExpression(expression, zone);
            if (cron.GetNextValidTimeAfter(new DateTimeOffset(afterUtc, TimeSpan.Zero)) is { } at && (next is null || at < next))
                next = at;
        }

        return next?.UtcDateTime;
    }

    /// <summary>
    /// The longest gap between two scheduled backups: the recovery point objective the policy promises. A point older
    /// than this plus <see cref="RpoGrace"/> means the RPO is breached.
    /// </summary>
    public static TimeSpan RpoTarget(BackupSchedule schedule)
    {
        if (schedule.Frequency != ScheduleFrequency.Weekly || schedule.Days.Count == 0)
            return TimeSpan.FromDays(1);
        var days = schedule.Days.Distinct().Select(d => (int)d).Order().ToList();
        var gaps = days.Select((d, i) => i + 1 < days.Count ? days[i + 1] - d : days[0] + 7 - d);
        return TimeSpan.FromDays(gaps.Max());
    }

    /// <summary>How late a backup may be before the RPO counts as breached (a long backup, a busy store).</summary>
    public static TimeSpan RpoGrace(BackupSchedule schedule) => RpoTarget(schedule) / 4;
}
