using Portal.Features.Drills;

namespace Portal.Components.Pages.Drills;

/// <summary>
/// The drill settings as their form edits them (GiB and minutes as people type them). An empty or unreadable number
/// becomes <see cref="Shared.NumberField.NotANumber"/>, which the service refuses in words: nothing is clamped.
/// </summary>
public sealed class DrillForm
{
    public DrillFrequency Frequency { get; set; } = DrillFrequency.Weekly;
    public DayOfWeek Day { get; set; } = DayOfWeek.Sunday;
    public int? DayOfMonth { get; set; } = 1;
    public TimeSpan? Time { get; set; } = new(3, 0, 0);
    public DrillSampleKind Sample { get; set; } = DrillSampleKind.Whole;
    public int? Files { get; set; } = 100;
    public double GiB { get; set; } = 1;
    public int? RtoMinutes { get; set; }

    public static DrillForm From(DrillSettings? s) => s is null ? new DrillForm() : new DrillForm
    {
        Frequency = s.Frequency, Day = s.Day, DayOfMonth = s.DayOfMonth, Time = s.TimeUtc.ToTimeSpan(), Sample = s.Sample,
        Files = s.Sample == DrillSampleKind.Files ? (int)s.SampleSize : 100,
        GiB = s.Sample == DrillSampleKind.Bytes ? Math.Round(s.SampleSize / (1024.0 * 1024 * 1024), 3) : 1,
        RtoMinutes = s.RtoTarget is { } t ? (int)t.TotalMinutes : null,
    };

    public DrillSettings ToSettings() => new(Frequency, Day, DayOfMonth ?? Shared.NumberField.NotANumber, TimeOnly.FromTimeSpan(Time ?? new TimeSpan(3, 0, 0)), Sample,
        Sample switch
        {
            DrillSampleKind.Files => Files ?? Shared.NumberField.NotANumber,
            DrillSampleKind.Bytes => (long)Math.Round(GiB * 1024 * 1024 * 1024),
            _ => 0,
        },
        RtoMinutes is { } m ? TimeSpan.FromMinutes(m) : null);
}
