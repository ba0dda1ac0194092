using MudBlazor;

namespace Portal.Components.Shared;

/// <summary>
/// How the portal's charts look (the Backup center's and the reports'): job outcomes always in the same colours — failed
/// in red, never MudBlazor's third default colour (yellow) — a legend, and labels sized for the chart as drawn.
/// The colours read on the light and the dark background alike.
/// </summary>
public static class ChartLook
{
    /// <summary>The outcome series, in the order charts stack them, with their colours.</summary>
    public static readonly IReadOnlyList<(string Name, string Color)> Outcomes =
    [
        ("Completed", "#2e9e44"),
        ("Completed with warnings", "#d08a1e"),
        ("Failed", "#e0323f"),
        ("Cancelled", "#8a8f98"),
    ];

    /// <summary>Colours for series with no meaning of their own (vaults, transfer directions): blue, teal, purple, brown…, none red or yellow.</summary>
    public static readonly string[] Neutral = ["#3a86d8", "#1a9c9c", "#8e5cc9", "#a0703a", "#5b6ee1", "#2f8f6a", "#c25a9c", "#6b7f8e"];

    /// <summary>The colour of each outcome series, by name, in the order of <paramref name="series"/>.</summary>
    public static string[] OutcomePalette(IEnumerable<string> series) =>
        [.. series.Select(name => Outcomes.FirstOrDefault(o => o.Name == name).Color ?? Neutral[0])];

    public static StackedBarChartOptions Stacked(string[] palette, string yTitle) => new()
    {
        ChartPalette = palette, ShowLegend = true, YAxisTitle = yTitle, MaxNumYAxisTicks = 5, YAxisFormat = "0", XAxisLabelRotation = 0,
    };

    public static BarChartOptions Bars(string yTitle) => new()
    {
        ChartPalette = Neutral, ShowLegend = true, YAxisTitle = yTitle, MaxNumYAxisTicks = 5, XAxisLabelRotation = 0,
    };

    public static LineChartOptions Lines(string yTitle) => new()
    {
        ChartPalette = Neutral, ShowLegend = true, YAxisTitle = yTitle, MaxNumYAxisTicks = 5, XAxisLabelRotation = 0,
    };

    /// <summary>
    /// Day labels that stay readable on a phone-wide chart: every day when there are few, else every n-th (the others
    /// blank), so at most five labels share the axis (seven overlapped at 390 px).
    /// </summary>
    public static string[] DayLabels(IReadOnlyList<DateOnly> days)
    {
        var step = Math.Max(1, (int)Math.Ceiling(days.Count / 5.0));
        return [.. days.Select((d, i) => i % step == 0 ? d.ToString("MMM d", System.Globalization.CultureInfo.InvariantCulture) : "")];
    }
}
