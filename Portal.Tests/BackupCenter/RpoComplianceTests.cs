using Portal.Features.Protection;
using Portal.Features.Common;
using Portal.Features.Reports;

namespace Portal.Tests.BackupCenter;

public sealed class RpoComplianceTests
{
    private static readonly DateTime Now = new(2026, 11, 25, 12, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan Day = TimeSpan.FromDays(1);
    private static readonly TimeSpan Limit = TimeSpan.FromHours(30); // a daily policy: 24 h target plus 6 h grace

    [Fact]
    public void Daily_points_for_thirty_days_are_fully_compliant()
    {
        var points = Enumerable.Range(0, 40).Select(d => Now.AddDays(-d).AddHours(-1));
        Assert.Equal(1.0, RpoCompliance.Over(points, Now.AddDays(-60), Limit, Now));
    }

    [Fact]
    public void A_three_day_gap_counts_only_the_time_past_the_limit()
    {
        // Daily points, except none on days 10, 11 and 12 ago: from day 13's point, the RPO is breached 30 h later until day 9's.
        var points = Enumerable.Range(0, 40).Where(d => d is < 10 or > 12).Select(d => Now.AddDays(-d));
        var gap = (Now.AddDays(-9) - Now.AddDays(-13)) - Limit;

        var compliance = RpoCompliance.Over(points, Now.AddDays(-60), Limit, Now)!.Value;

        Assert.Equal(1 - gap / RpoCompliance.Window, compliance, precision: 6);
        Assert.True(compliance is > 0.9 and < 0.95);
    }

    [Fact]
    public void An_item_never_backed_up_breaches_from_creation_plus_the_limit()
    {
        var created = Now.AddDays(-3);
        var compliance = RpoCompliance.Over([], created, Limit, Now)!.Value;
        Assert.Equal(Limit / (3 * Day), compliance, precision: 6);
    }

    [Fact]
    public void The_age_at_the_window_start_comes_from_the_last_point_before_it()
    {
        // Last point 31 days ago, none since: within the limit only for the window's first 6 hours (31 days ago + 30 h).
        var compliance = RpoCompliance.Over([Now.AddDays(-31)], Now.AddDays(-90), Limit, Now)!.Value;
        var breached = Now - (Now.AddDays(-31) + Limit);
        Assert.Equal(1 - breached / RpoCompliance.Window, compliance, precision: 6);
        Assert.Null(RpoCompliance.Over([], Now, Limit, Now));
    }

    [Theory]
    [InlineData("2026-11-01", "2026-11-25", null)]
    [InlineData("2026-11-25", "2026-11-01", "start date is after the end date")]
    [InlineData("2025-01-01", "2026-11-25", "at most 366 days")]
    public void A_report_range_says_what_is_wrong(string from, string to, string? problem)
    {
        var range = new ReportRange(DateOnly.Parse(from), DateOnly.Parse(to));
        if (problem is null) Assert.Null(range.Problem());
        else Assert.Contains(problem, range.Problem());
    }

    [Fact]
    public void The_default_range_includes_today()
    {
        var range = ReportRange.Last(30, Now);
        Assert.Equal((new DateOnly(2026, 10, 27), new DateOnly(2026, 11, 25), 30), (range.From, range.To, range.Days));
        Assert.Equal(Now.Date.AddDays(1), range.EndUtc);
    }

    [Fact]
    public void Csv_quotes_what_needs_quoting_and_defuses_formulas()
    {
        var csv = Csv.Write(new[] { ("=HYPERLINK(\"x\")", 1.5), ("a,b", 2.0), ("plain", 0.25) }, ("name", r => r.Item1), ("value", r => r.Item2));
        Assert.Equal("name,value\r\n\"'=HYPERLINK(\"\"x\"\")\",1.5\r\n\"a,b\",2\r\nplain,0.25\r\n", csv);
    }
}
