using Portal.Engine.Retention;

namespace Portal.Features.Policies;

/// <summary>
/// Which points a policy keeps, drawn as Proxmox Backup Server's prune simulator does: the points its schedule makes,
/// evaluated by the same retention rules as the retention run, one row per tier with one cell per day, week, month or
/// year (the most recent first), a cell marked when the tier keeps a point from it.
/// </summary>
public static class RetentionTimeline
{
    /// <summary>The most cells a row shows; older ones are counted, not drawn.</summary>
    public static readonly IReadOnlyDictionary<string, int> MaxCells = new Dictionary<string, int>
    {
        ["daily"] = 35, ["weekly"] = 26, ["monthly"] = 24, ["yearly"] = 10,
    };

    /// <summary>The rows of <paramref name="definition"/> at <paramref name="now"/>; empty when its time zone is unknown.</summary>
    public static IReadOnlyList<TimelineRow> Build(PolicyDefinition definition, DateTimeOffset now)
    {
        var (schedule, retention) = definition;
        if (!PolicyRules.TryZone(schedule.TimeZoneId, out var zone))
            return [];
        var decisions = RetentionCalculator.Evaluate(RetentionCalculator.SimulatePoints(schedule, retention, now), retention, zone, now)
            .Where(d => !d.Expired).ToList();
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, zone).DateTime);
        var rows = new List<TimelineRow>();
        foreach (var (tier, length, unit) in Tiers(retention))
        {
            var kept = decisions.Where(d => d.Reasons.Contains(tier))
                .Select(d => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(d.Point.Time, zone).DateTime)).ToList();
            var cellCount = Math.Min(length, MaxCells[tier]);
            var cells = new List<TimelineCell>(cellCount);
            for (var i = 0; i < cellCount; i++)
            {
                var (from, to) = Bucket(tier, today, i);
                var inCell = kept.Where(d => d >= from && d <= to).ToList();
                cells.Add(new TimelineCell(from, to, inCell.Count > 0 ? inCell.Min() : null));
            }

            rows.Add(new TimelineRow(tier, $"{length:N0} {unit}", kept.Count, cells, length > cellCount ? length - cellCount : 0));
        }

        return rows;
    }

    private static IEnumerable<(string Tier, int Length, string Unit)> Tiers(RetentionPolicy r)
    {
        if (r.DailyDays is { } days) yield return ("daily", days, "days");
        if (r.Weekly is { } w) yield return ("weekly", w.Weeks, "weeks");
        if (r.Monthly is { } m) yield return ("monthly", m.Months, "months");
        if (r.Yearly is { } y) yield return ("yearly", y.Years, "years");
    }

    /// <summary>The dates of cell <paramref name="back"/> (0: the current day, week, month or year).</summary>
    private static (DateOnly From, DateOnly To) Bucket(string tier, DateOnly today, int back)
    {
        switch (tier)
        {
            case "daily":
                return (today.AddDays(-back), today.AddDays(-back));
            case "weekly":
                var monday = today.AddDays(-(((int)today.DayOfWeek + 6) % 7) - 7 * back);
                return (monday, monday.AddDays(6));
            case "monthly":
                var month = new DateOnly(today.Year, today.Month, 1).AddMonths(-back);
                return (month, month.AddMonths(1).AddDays(-1));
            default:
                var year = new DateOnly(today.Year - back, 1, 1);
                return (year, year.AddYears(1).AddDays(-1));
        }
    }
}

/// <summary>One tier's row: its name, how long it keeps (in words), how many points it keeps now, the cells drawn (newest first), and how many older cells are not drawn.</summary>
public sealed record TimelineRow(string Tier, string Keeps, int Kept, IReadOnlyList<TimelineCell> Cells, int OlderNotShown);

/// <summary>A day, week, month or year, and the date of the point the tier keeps from it (null: none).</summary>
public sealed record TimelineCell(DateOnly From, DateOnly To, DateOnly? KeptPoint);
