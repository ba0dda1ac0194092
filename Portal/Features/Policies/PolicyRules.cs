using Portal.Engine.Retention;

namespace Portal.Features.Policies;

/// <summary>Azure Backup's policy rules, with the message a user needs for each broken one.</summary>
public static class PolicyRules
{
    public const int NameMaxLength = 50;

    /// <summary>Field name → what is wrong. Empty when the policy is valid.</summary>
    public static Dictionary<string, string> Validate(string? name, PolicyDefinition definition, DateTimeOffset now)
    {
        var errors = new Dictionary<string, string>();
        if (name?.FirstOrDefault(c => !char.IsAscii(c)) is { } other && other != default)
            errors["Name"] = $"A policy name uses only the letters A to Z (no accents or other alphabets), digits, hyphens and underscores: \"{other}\" is not one of them.";
        else if (string.IsNullOrWhiteSpace(name) || name.Length > NameMaxLength || !char.IsAsciiLetter(name[0]) || name.Any(c => !char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_'))
            errors["Name"] = $"A policy name has 1 to {NameMaxLength} letters, digits, hyphens and underscores, starting with a letter.";

        var (schedule, retention) = definition;
        var weeklySchedule = schedule.Frequency == ScheduleFrequency.Weekly;
        if (schedule.Times.Count is < 1 or > 3 || schedule.Times.Distinct().Count() != schedule.Times.Count)
            errors["Times"] = "Choose one to three different backup times.";
        if (weeklySchedule && schedule.Days.Count == 0)
            errors["Days"] = "A weekly schedule needs at least one day.";
        if (!TryZone(schedule.TimeZoneId, out _))
            errors["TimeZone"] = $"Time zone \"{schedule.TimeZoneId}\" is not known on this server. Choose one from the list.";

        if (weeklySchedule && retention.DailyDays is not null)
            errors["Daily"] = "A weekly schedule has no daily points: turn daily retention off or schedule daily backups.";
        else if (!weeklySchedule && retention.DailyDays is not (>= 7 and <= 9999))
            errors["Daily"] = "Keep daily points 7 to 9,999 days.";
        if (weeklySchedule && retention.Weekly is null)
            errors["Weekly"] = "A weekly schedule needs weekly retention.";
        if (retention.Weekly is { } weekly)
        {
            if (weekly.Weeks is < 4 or > 5163)
                errors["Weekly"] = "Keep weekly points 4 to 5,163 weeks.";
            else if (weekly.Days.Count == 0)
                errors["Weekly"] = "Choose the weekday(s) whose points weekly retention keeps.";
            else if (weeklySchedule && weekly.Days.Except(schedule.Days).Any())
                errors["Weekly"] = "Weekly retention can only keep points of days the schedule backs up.";
        }

        if (retention.Monthly is { } monthly)
        {
            if (monthly.Months is < 1 or > 1188)
                errors["Monthly"] = "Keep monthly points 1 to 1,188 months.";
            else if (CheckDay(monthly.Day, schedule) is { } dayError)
                errors["Monthly"] = dayError;
        }

        if (retention.Yearly is { } yearly)
        {
            if (yearly.Years is < 1 or > 99)
                errors["Yearly"] = "Keep yearly points 1 to 99 years.";
            else if (yearly.InMonths.Count == 0 || yearly.InMonths.Any(m => m is < 1 or > 12))
                errors["Yearly"] = "Choose the month(s) whose point yearly retention keeps.";
            else if (CheckDay(yearly.Day, schedule) is { } dayError)
                errors["Yearly"] = dayError;
        }

        if (errors.Count == 0)
        {
            var kept = RetentionCalculator.MaxPointsKept(schedule, retention, now);
            if (kept > RetentionCalculator.MaxPointsPerItem)
                errors["Retention"] = $"This policy would keep up to {kept:N0} recovery points per item; the limit is {RetentionCalculator.MaxPointsPerItem:N0}. Shorten a retention tier or back up less often.";
        }

        return errors;
    }

    /// <summary>
    /// True when <paramref name="proposed"/> would remove a recovery point that <paramref name="current"/> keeps:
    /// both are evaluated over the points the current schedule produces, up to its longest retention.
    /// </summary>
    public static bool ReducesRetention(PolicyDefinition current, PolicyDefinition proposed, DateTimeOffset now)
    {
        if (!TryZone(current.Schedule.TimeZoneId, out var zone))
            return false;
        var points = RetentionCalculator.SimulatePoints(current.Schedule, current.Retention, now);
        var before = RetentionCalculator.Evaluate(points, current.Retention, zone, now).Where(d => !d.Expired).ToList();
        var after = RetentionCalculator.Evaluate(points, proposed.Retention, zone, now).ToDictionary(d => d.Point.Id);
        return before.Any(d => after[d.Point.Id] is { Expired: true } or { KeepUntil: null } || after[d.Point.Id].KeepUntil < d.KeepUntil);
    }

    private static string? CheckDay(DaySelector day, BackupSchedule schedule)
    {
        var byWeek = day.DayOfMonth is null;
        if (!byWeek && day.DayOfMonth is < 0 or > 28)
            return "Choose a day of the month from 1 to 28, or the last day.";
        if (byWeek && (day.Week is < 1 or > 5 || day.Weekday is null))
            return "Choose the week (first to fourth, or last) and the weekday.";
        if (schedule.Frequency == ScheduleFrequency.Weekly && (!byWeek || !schedule.Days.Contains(day.Weekday!.Value)))
            return "With a weekly schedule, choose a weekday the schedule backs up (first to last week of the month).";
        return null;
    }

    public static bool TryZone(string id, out TimeZoneInfo zone)
    {
        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(id);
            return true;
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException)
        {
            zone = TimeZoneInfo.Utc;
            return false;
        }
    }
}
