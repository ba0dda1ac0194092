using Bunit;
using Portal.Components.Pages.BackupCenter;
using Portal.Components.Pages.Reports;
using Portal.Components.Shared;
using Portal.Features.BackupCenter;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Reports;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>
/// Issue 25: the charts say which colour is which (a legend), show failed jobs in red (MudBlazor's third default colour
/// is yellow, which read as a warning), and /reports charts its figures too.
/// </summary>
public sealed class ChartTests : PortalComponentTest
{
    private static readonly string Red = ChartLook.Outcomes.Single(o => o.Name == "Failed").Color;

    // The charts are drawn at the size of their box (MatchBoundsToSize), which the browser measures: tell them one, as
    // the browser would, or they draw nothing.
    public ChartTests() =>
        Context.JSInterop.Setup<MudBlazor.Interop.ElementSize>("mudObserveElementSize", _ => true)
            .SetResult(new MudBlazor.Interop.ElementSize { Width = 400, Height = 260 });

    [Fact]
    public void The_backup_centers_job_outcomes_have_a_legend_and_failed_is_red()
    {
        var days = Enumerable.Range(0, 14).Select(i => new DateOnly(2026, 12, 1).AddDays(i)).ToList();
        var outcomes = new Dictionary<string, double[]>
        {
            ["Completed"] = [.. days.Select(_ => 5.0)], ["Completed with warnings"] = new double[14], ["Failed"] = [.. days.Select((_, i) => i % 3 == 0 ? 2.0 : 0)],
            ["Cancelled"] = new double[14],
        };
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));

        var charts = RenderPage<TrendCharts>(p => p.Add(c => c.Trends, new EstateTrends(days, outcomes, new double[14], new double[14], new Dictionary<string, double[]>())));

        charts.WaitForAssertion(() => Assert.Contains("Failed", charts.Find("[data-testid=chart-job-outcomes]").TextContent));
        var card = charts.Find("[data-testid=chart-job-outcomes]");
        Assert.Contains("Failed", card.TextContent);                          // the legend names the series
        Assert.Contains(Red, card.InnerHtml, StringComparison.OrdinalIgnoreCase); // drawn in red
        Assert.DoesNotContain("#FFC400", card.InnerHtml, StringComparison.OrdinalIgnoreCase); // MudBlazor's default third colour
        Assert.Equal(["Dec 1", "Dec 4", "Dec 7", "Dec 10", "Dec 13"], ChartLook.DayLabels(days).Where(l => l.Length > 0)); // 14 days: five labels fit a phone
    }

    [Fact]
    public void A_reports_job_chart_counts_each_days_outcomes_over_the_chosen_days()
    {
        var range = new ReportRange(new DateOnly(2026, 12, 1), new DateOnly(2026, 12, 3));
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));

        var chart = RenderPage<ReportCharts>(p => p.Add(c => c.Kind, ReportChart.Jobs).Add(c => c.Range, range).Add(c => c.Jobs,
        [
            new JobDayRow(new DateOnly(2026, 12, 2), JobKind.Backup, 4, 3, 0, 1, 0, 0),
            new JobDayRow(new DateOnly(2026, 12, 2), JobKind.Restore, 1, 0, 0, 1, 0, 0),
        ]));

        chart.WaitForAssertion(() => Assert.Contains("Failed", chart.Find("[data-testid=report-chart-jobs]").TextContent));
        var html = chart.Find("[data-testid=report-chart-jobs]").InnerHtml;
        Assert.Contains("Failed", chart.Find("[data-testid=report-chart-jobs]").TextContent);
        Assert.Contains(Red, html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Dec 2", chart.Find("[data-testid=report-chart-jobs]").TextContent);
    }
}
