namespace Portal.Engine.Retention;

/// <summary>
/// Retention as a pure function of (points, policy, now): which recovery points stay, until when, and why.
/// </summary>
/// <remarks>
/// <para>Days are counted in the schedule's time zone. Daily retention keeps every scheduled point for its
/// days. The weekly, monthly and yearly tiers keep one point per selected day: the first point of that day;
/// when that day has none (a failed backup), the first point after it in the same week, month or year, so a
/// single failure does not lose a long-term point. On-demand points are kept until their own date.</para>
/// <para>A point's expiry is the latest of the tiers that keep it, counted from the point's local time. Because
/// it is recomputed from the policy every time, extending retention applies to existing points, and reducing it
/// removes points at the next retention run.</para>
/// </remarks>
public static class RetentionCalculator
{
    /// <summary>Azure Backup's limit of recovery points per backup item.</summary>
    public const int MaxPointsPerItem = 9999;

    /// <summary>Decides every point's fate at <paramref name="now"/>.</summary>
    public static IReadOnlyList<RetentionDecision> Evaluate(
        IReadOnlyList<RecoveryPointRef> points, RetentionPolicy policy, TimeZoneInfo zone, DateTimeOffset now)
    {
        var scheduled = points.Where(p => !p.OnDemand).OrderBy(p => p.Time).ToList();
        var keep = new Dictionary<string, (DateTimeOffset Until, List<string> Reasons)>(StringComparer.Ordinal);

        void Keep(RecoveryPointRef point, DateTimeOffset until, string reason)
        {
            if (!keep.TryGetValue(point.Id, out var current))
                keep[point.Id] = (until, [reason]);
            else
            {
                current.Reasons.Add(reason);
                keep[point.Id] = (until > current.Until ? until : current.Until, current.Reasons);
            }
        }

        DateOnly LocalDate(RecoveryPointRef p) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(p.Time, zone).DateTime);
        DateTimeOffset Plus(RecoveryPointRef p, Func<DateTime, DateTime> period) =>
            ToInstant(period(TimeZoneInfo.ConvertTime(p.Time, zone).DateTime), zone);

        if (policy.DailyDays is { } days)
        {
            foreach (var p in scheduled)
                Keep(p, Plus(p, t => t.AddDays(days)), "daily");
        }

        if (policy.Weekly is { } weekly)
        {
            foreach (var p in Representatives(scheduled, LocalDate, StartOfWeek,
                         week => weekly.Days.Select(d => week.AddDays(((int)d + 6) % 7))))
                Keep(p, Plus(p, t => t.AddDays(7 * weekly.Weeks)), "weekly");
        }

        if (policy.Monthly is { } monthly)
        {
            foreach (var p in Representatives(scheduled, LocalDate, StartOfMonth, month => [monthly.Day.In(month.Year, month.Month)]))
                Keep(p, Plus(p, t => t.AddMonths(monthly.Months)), "monthly");
        }

        if (policy.Yearly is { } yearly)
        {
            foreach (var p in Representatives(scheduled, LocalDate, StartOfMonth,
                         month => yearly.InMonths.Contains(month.Month) ? [yearly.Day.In(month.Year, month.Month)] : []))
                Keep(p, Plus(p, t => t.AddYears(yearly.Years)), "yearly");
        }

        foreach (var p in points.Where(p => p.OnDemand))
            Keep(p, p.RetainUntil!.Value, "on demand");

        return [.. points.OrderBy(p => p.Time).Select(p => keep.TryGetValue(p.Id, out var k)
            ? new RetentionDecision(p, k.Until, k.Until <= now, k.Reasons)
            : new RetentionDecision(p, null, true, []))];
    }

    /// <summary>
    /// The points that a tier keeps: in each period (week or month) and for each day the tier selects in it,
    /// the first point on that day, else the first point after it within the same period.
    /// </summary>
    private static IEnumerable<RecoveryPointRef> Representatives(
        List<RecoveryPointRef> ordered, Func<RecoveryPointRef, DateOnly> localDate,
        Func<DateOnly, DateOnly> periodStart, Func<DateOnly, IEnumerable<DateOnly>> selectedDays) =>
        ordered.GroupBy(p => periodStart(localDate(p)))
            .SelectMany(period => selectedDays(period.Key)
                .Select(day => period.FirstOrDefault(p => localDate(p) >= day))
                .OfType<RecoveryPointRef>())
            .Distinct();

    private static DateOnly StartOfMonth(DateOnly d) => new(d.Year, d.Month, 1);

    private static DateOnly StartOfWeek(DateOnly d) => d.AddDays(-(((int)d.DayOfWeek + 6) % 7)); // Monday

    private static DateTimeOffset ToInstant(DateTime local, TimeZoneInfo zone)
    {
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        while (zone.IsInvalidTime(local)) local = local.AddMinutes(30); // a time skipped by a DST change
        return new DateTimeOffset(local, zone.GetUtcOffset(local));
    }

    /// <summary>
    /// How many points the policy keeps at most once in steady state: the schedule's points over the longest
    /// retention, evaluated as retention would. Used to refuse policies above <see cref="MaxPointsPerItem"/>.
    /// </summary>
    public static int MaxPointsKept(BackupSchedule schedule, RetentionPolicy policy, DateTimeOffset now) =>
        Evaluate(SimulatePoints(schedule, policy, now), policy, TimeZoneInfo.FindSystemTimeZoneById(schedule.TimeZoneId), now).Count(d => !d.Expired);

    /// <summary>The scheduled points <paramref name="schedule"/> would have made up to <paramref name="now"/>, as far back as <paramref name="policy"/> keeps any.</summary>
    public static IReadOnlyList<RecoveryPointRef> SimulatePoints(BackupSchedule schedule, RetentionPolicy policy, DateTimeOffset now)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(schedule.TimeZoneId);
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, zone).DateTime);
        var horizonDays = new[]
        {
            policy.DailyDays ?? 0, (policy.Weekly?.Weeks ?? 0) * 7, (policy.Monthly?.Months ?? 0) * 31, (policy.Yearly?.Years ?? 0) * 366,
        }.Max() + 1;
        var points = new List<RecoveryPointRef>();
        for (var day = today.AddDays(-horizonDays); day <= today; day = day.AddDays(1))
        {
            if (schedule.Frequency == ScheduleFrequency.Weekly && !schedule.Days.Contains(day.DayOfWeek))
                continue;
            foreach (var time in schedule.Times)
            {
                var local = day.ToDateTime(time);
                if (zone.IsInvalidTime(local)) continue;
                var instant = new DateTimeOffset(local, zone.GetUtcOffset(local));
                if (instant <= now)
                    points.Add(new RecoveryPointRef($"{points.Count}", instant));
            }
        }

        return points;
    }
}
