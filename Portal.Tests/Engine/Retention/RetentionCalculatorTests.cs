using Portal.Engine.Retention;

namespace Portal.Tests.Engine.Retention;

/// <summary>Retention as a pure function of (points, policy, now), checked over decades of dates.</summary>
public sealed class RetentionCalculatorTests
{
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

    /// <summary>Scheduled points at <paramref name="time"/> Berlin time every day from <paramref name="from"/> to <paramref name="to"/> (inclusive).</summary>
    private static List<RecoveryPointRef> Daily(DateOnly from, DateOnly to, TimeOnly time, Func<DateOnly, bool>? skip = null)
    {
        var points = new List<RecoveryPointRef>();
        for (var d = from; d <= to; d = d.AddDays(1))
        {
            if (skip?.Invoke(d) == true) continue;
            var local = d.ToDateTime(time);
            points.Add(new RecoveryPointRef(d.ToString("yyyy-MM-dd") + "T" + time.ToString("HHmm"), new DateTimeOffset(local, Berlin.GetUtcOffset(local))));
        }
        return points;
    }

    private static DateTimeOffset At(int y, int m, int d, int h = 12) =>
        new(new DateTime(y, m, d, h, 0, 0), Berlin.GetUtcOffset(new DateTime(y, m, d, h, 0, 0)));

    private static List<string> Kept(IReadOnlyList<RetentionDecision> decisions, string? reason = null) =>
        [.. decisions.Where(d => !d.Expired && (reason is null || d.Reasons.Contains(reason))).Select(d => d.Point.Id[..10])];

    [Fact]
    public void Daily_retention_keeps_each_point_exactly_its_number_of_days()
    {
        var points = Daily(new(2026, 10, 1), new(2026, 11, 24), new(22, 0));

        var decisions = RetentionCalculator.Evaluate(points, new RetentionPolicy(DailyDays: 7), Berlin, At(2026, 11, 25));

        Assert.Equal(["2026-11-18", "2026-11-19", "2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23", "2026-11-24"], Kept(decisions));
        var last = decisions.Single(d => d.Point.Id.StartsWith("2026-11-24", StringComparison.Ordinal));
        Assert.Equal(At(2026, 12, 1, 22), last.KeepUntil);
    }

    [Fact]
    public void Weekly_monthly_and_yearly_tiers_keep_one_point_per_selected_day()
    {
        var points = Daily(new(2024, 1, 1), new(2026, 11, 24), new(1, 30));
        var policy = new RetentionPolicy(
            DailyDays: 7,
            Weekly: new WeeklyRetention(4, [DayOfWeek.Sunday]),
            Monthly: new MonthlyRetention(6, new DaySelector(Week: DaySelector.LastWeek, Weekday: DayOfWeek.Friday)),
            Yearly: new YearlyRetention(3, [1], new DaySelector(DayOfMonth: 1)));

        var decisions = RetentionCalculator.Evaluate(points, policy, Berlin, At(2026, 11, 25));

        Assert.Equal(["2026-11-01", "2026-11-08", "2026-11-15", "2026-11-22"], Kept(decisions, "weekly"));
        Assert.Equal(["2026-05-29", "2026-06-26", "2026-07-31", "2026-08-28", "2026-09-25", "2026-10-30"], Kept(decisions, "monthly"));
        Assert.Equal(["2024-01-01", "2025-01-01", "2026-01-01"], Kept(decisions, "yearly"));
        // daily: the points of 11-19 to 11-24 (01:30 + 7 days is before now for 11-18); 11-22 is both daily and weekly
        Assert.Equal(6 + 4 + 6 + 3 - 1, Kept(decisions).Count);
    }

    [Fact]
    public void When_the_selected_day_has_no_point_the_next_point_of_the_period_is_kept_instead()
    {
        var points = Daily(new(2026, 1, 1), new(2026, 4, 30), new(2, 0), skip: d => d == new DateOnly(2026, 3, 1) || d == new DateOnly(2026, 3, 2));

        var decisions = RetentionCalculator.Evaluate(points, new RetentionPolicy(7, Monthly: new MonthlyRetention(12, new DaySelector(DayOfMonth: 1))), Berlin, At(2026, 5, 1));

        Assert.Equal(["2026-01-01", "2026-02-01", "2026-03-03", "2026-04-01"], Kept(decisions, "monthly"));
    }

    [Fact]
    public void On_demand_points_stay_until_their_own_date_whatever_the_policy()
    {
        var backUpNow = new RecoveryPointRef("on-demand", At(2026, 1, 10), RetainUntil: At(2026, 12, 31));

        var decisions = RetentionCalculator.Evaluate([backUpNow], new RetentionPolicy(DailyDays: 7), Berlin, At(2026, 11, 25));

        var decision = Assert.Single(decisions);
        Assert.False(decision.Expired);
        Assert.Equal(["on demand"], decision.Reasons);
        Assert.True(RetentionCalculator.Evaluate([backUpNow], new RetentionPolicy(7), Berlin, At(2027, 1, 1)).Single().Expired);
    }

    [Fact]
    public void Over_thirty_years_extending_retention_never_removes_a_point_and_time_never_brings_one_back()
    {
        var points = Daily(new(1996, 1, 1), new(2026, 11, 24), new(23, 30));
        var random = new Random(2026);
        for (var trial = 0; trial < 12; trial++)
        {
            var small = new RetentionPolicy(
                random.Next(7, 60),
                new WeeklyRetention(random.Next(4, 30), [(DayOfWeek)random.Next(7)]),
                new MonthlyRetention(random.Next(1, 60), new DaySelector(DayOfMonth: random.Next(0, 29))),
                new YearlyRetention(random.Next(1, 20), [random.Next(1, 13)], new DaySelector(Week: random.Next(1, 6), Weekday: (DayOfWeek)random.Next(7))));
            var large = small with
            {
                DailyDays = small.DailyDays + random.Next(0, 400),
                Weekly = small.Weekly! with { Weeks = small.Weekly.Weeks + random.Next(0, 100) },
                Monthly = small.Monthly! with { Months = small.Monthly.Months + random.Next(0, 100) },
                Yearly = small.Yearly! with { Years = small.Yearly.Years + random.Next(0, 20) },
            };
            var now = At(2026, 11, 25);

            var keptSmall = Kept(RetentionCalculator.Evaluate(points, small, Berlin, now)).ToHashSet();
            var keptLarge = Kept(RetentionCalculator.Evaluate(points, large, Berlin, now)).ToHashSet();
            var keptLater = Kept(RetentionCalculator.Evaluate(points, small, Berlin, now.AddDays(random.Next(1, 400)))).ToHashSet();

            Assert.Subset(keptLarge, keptSmall);
            Assert.Subset(keptSmall, keptLater);
            var monthly = Kept(RetentionCalculator.Evaluate(points, small, Berlin, now), "monthly");
            Assert.InRange(monthly.Count, small.Monthly!.Months - 1, small.Monthly.Months + 1);
            Assert.Equal(monthly.Count, monthly.Select(m => m[..7]).Distinct().Count()); // one per month
        }
    }

    [Fact]
    public void Days_are_counted_in_the_schedules_time_zone_across_daylight_saving_changes()
    {
        // 2026-03-29: clocks jump from 02:00 to 03:00 in Berlin. Points at 02:30 local would not exist that day.
        var points = Daily(new(2026, 3, 20), new(2026, 4, 5), new(2, 30), skip: d => d == new DateOnly(2026, 3, 29));

        var decisions = RetentionCalculator.Evaluate(points, new RetentionPolicy(DailyDays: 7), Berlin, At(2026, 4, 6, 1));

        Assert.Equal(["2026-03-30", "2026-03-31", "2026-04-01", "2026-04-02", "2026-04-03", "2026-04-04", "2026-04-05"], Kept(decisions));
    }

    [Fact]
    public void A_policy_that_would_keep_more_than_9999_points_is_measured_before_it_is_saved()
    {
        var twiceDaily = new BackupSchedule(ScheduleFrequency.Daily, [], [new(8, 0), new(20, 0)], "Europe/Berlin");

        var tooMany = RetentionCalculator.MaxPointsKept(twiceDaily, new RetentionPolicy(DailyDays: 9999), At(2026, 11, 25));
        var fine = RetentionCalculator.MaxPointsKept(twiceDaily, new RetentionPolicy(DailyDays: 30, Monthly: new MonthlyRetention(60, new DaySelector(DayOfMonth: 1))), At(2026, 11, 25));

        Assert.InRange(tooMany, 19_997, 19_999);
        Assert.True(tooMany > RetentionCalculator.MaxPointsPerItem);
        Assert.InRange(fine, 60 + 59, 60 + 61);
    }
}
