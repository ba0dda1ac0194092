using Portal.Engine.Retention;
using Portal.Features.Policies;

namespace Portal.Components.Pages.Policies;

/// <summary>The policy editor's fields, mutable for binding; converts to and from <see cref="PolicyDefinition"/>.</summary>
public sealed class PolicyForm
{
    public string Name { get; set; } = "";
    public ScheduleFrequency Frequency { get; set; } = ScheduleFrequency.Daily;
    public HashSet<DayOfWeek> Days { get; set; } = [DayOfWeek.Sunday];
    public List<TimeSpan?> Times { get; set; } = [new TimeSpan(22, 30, 0)];
    public string TimeZoneId { get; set; } = "UTC";

    public bool DailyOn { get; set; } = true;
    public int? DailyDays { get; set; } = 30;
    public bool WeeklyOn { get; set; }
    public int? Weeks { get; set; } = 12;
    public HashSet<DayOfWeek> WeeklyDays { get; set; } = [DayOfWeek.Sunday];
    public bool MonthlyOn { get; set; }
    public int? Months { get; set; } = 12;
    public DayForm MonthlyDay { get; set; } = new();
    public bool YearlyOn { get; set; }
    public int? Years { get; set; } = 5;
    public HashSet<int> YearlyMonths { get; set; } = [1];
    public DayForm YearlyDay { get; set; } = new();

    /// <summary>An emptied number field: outside every tier's range, so the rules refuse it with the range (never a silent default).</summary>
    private const int Empty = 0;

    /// <summary>
    /// Switches between daily and weekly backups keeping a policy the rules accept: a weekly schedule needs weekly
    /// retention (it is turned on, on the schedule's days) and monthly and yearly points on a weekday it backs up.
    /// </summary>
    public void SetFrequency(ScheduleFrequency frequency)
    {
        Frequency = frequency;
        if (frequency == ScheduleFrequency.Weekly)
            WeeklyOn = true;
        else if (!DailyOn && !WeeklyOn && !MonthlyOn && !YearlyOn)
            DailyOn = true;
        FitToSchedule();
    }

    /// <summary>After the schedule's days changed: the tiers keep points of days the schedule backs up.</summary>
    public void FitToSchedule()
    {
        if (Frequency != ScheduleFrequency.Weekly || Days.Count == 0)
            return;
        var first = Days.OrderBy(d => ((int)d + 6) % 7).First(); // Monday first, as the picker shows them
        WeeklyDays.IntersectWith(Days);
        if (WeeklyDays.Count == 0)
            WeeklyDays.Add(first);
        foreach (var day in new[] { MonthlyDay, YearlyDay })
        {
            if (!day.ByWeek || !Days.Contains(day.Weekday))
                (day.ByWeek, day.Week, day.Weekday) = (true, day.ByWeek ? day.Week : 1, first);
        }
    }

    public PolicyDefinition ToDefinition() => new(
        new BackupSchedule(Frequency, Frequency == ScheduleFrequency.Weekly ? [.. Days.Order()] : [],
            [.. Times.Where(t => t is not null).Select(t => TimeOnly.FromTimeSpan(t!.Value))], TimeZoneId),
        new RetentionPolicy(
            DailyOn && Frequency == ScheduleFrequency.Daily ? DailyDays ?? Empty : null,
            WeeklyOn ? new WeeklyRetention(Weeks ?? Empty, [.. WeeklyDays.Order()]) : null,
            MonthlyOn ? new MonthlyRetention(Months ?? Empty, MonthlyDay.ToSelector()) : null,
            YearlyOn ? new YearlyRetention(Years ?? Empty, [.. YearlyMonths.Order()], YearlyDay.ToSelector()) : null));

    public static PolicyForm From(string name, PolicyDefinition d)
    {
        var (s, r) = d;
        return new PolicyForm
        {
            Name = name,
            Frequency = s.Frequency,
            Days = s.Days.Count > 0 ? [.. s.Days] : [DayOfWeek.Sunday],
            Times = [.. s.Times.Select(t => (TimeSpan?)t.ToTimeSpan())],
            TimeZoneId = s.TimeZoneId,
            DailyOn = r.DailyDays is not null,
            DailyDays = r.DailyDays ?? 30,
            WeeklyOn = r.Weekly is not null,
            Weeks = r.Weekly?.Weeks ?? 12,
            WeeklyDays = r.Weekly is { } w ? [.. w.Days] : [DayOfWeek.Sunday],
            MonthlyOn = r.Monthly is not null,
            Months = r.Monthly?.Months ?? 12,
            MonthlyDay = DayForm.From(r.Monthly?.Day),
            YearlyOn = r.Yearly is not null,
            Years = r.Yearly?.Years ?? 5,
            YearlyMonths = r.Yearly is { } y ? [.. y.InMonths] : [1],
            YearlyDay = DayForm.From(r.Yearly?.Day),
        };
    }
}

/// <summary>A day of the month, by number or by week and weekday.</summary>
public sealed class DayForm
{
    public bool ByWeek { get; set; }
    public int DayOfMonth { get; set; } = 1;
    public int Week { get; set; } = 1;
    public DayOfWeek Weekday { get; set; } = DayOfWeek.Sunday;

    public DaySelector ToSelector() => ByWeek ? new DaySelector(Week: Week, Weekday: Weekday) : new DaySelector(DayOfMonth: DayOfMonth);

    public static DayForm From(DaySelector? d) => d is null
        ? new DayForm()
        : new DayForm { ByWeek = d.DayOfMonth is null, DayOfMonth = d.DayOfMonth ?? 1, Week = d.Week ?? 1, Weekday = d.Weekday ?? DayOfWeek.Sunday };
}
