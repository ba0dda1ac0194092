namespace Portal.Features.Common;

/// <summary>How numbers and times read in the portal.</summary>
public static class Format
{
    /// <summary>"—" when unknown (a panel a later feature fills shows nothing rather than an invented number).</summary>
    public static string Bytes(long? bytes)
    {
        if (bytes is null)
            return "—";
        string[] units = ["B", "KB", "MB", "GB", "TB", "PB"];
        double value = bytes.Value;
        var unit = 0;
        while (value >= 1000 && unit < units.Length - 1)
        {
            value /= 1000;
            unit++;
        }

        return unit == 0 ? $"{bytes} B" : $"{value:0.#} {units[unit]}";
    }

    public static string Utc(DateTime utc) => $"{utc:yyyy-MM-dd HH:mm} UTC";

    public static string Utc(DateTime? utc, string none = "—") => utc is { } value ? Utc(value) : none;

    public static string Date(DateTime utc) => $"{utc:yyyy-MM-dd}";

    /// <summary>A time to the second, where seconds matter (a job's start and end).</summary>
    public static string UtcSeconds(DateTime utc) => $"{utc:yyyy-MM-dd HH:mm:ss} UTC";

    /// <summary>How long something took, to the second: "42 s", "3 min 5 s", "2 h 10 min".</summary>
    public static string Duration(TimeSpan span) =>
        span < TimeSpan.Zero ? "—"
        : span.TotalMinutes < 1 ? $"{Math.Max(0, span.TotalSeconds):0.#} s"
        : span.TotalHours < 1 ? $"{(int)span.TotalMinutes} min {span.Seconds} s"
        : $"{(int)span.TotalHours} h {span.Minutes} min";

    /// <summary>A transfer rate such as "12.5 MB/s".</summary>
    public static string Rate(double? bytesPerSecond) => bytesPerSecond is > 0 and var rate ? $"{Bytes((long)rate)}/s" : "—";

    /// <summary>
    /// Time left in coarse steps (under a minute, whole minutes, then hours and five-minute steps, then days), so that
    /// a figure re-rendered four times a second does not flicker between neighbouring seconds.
    /// </summary>
    public static string Eta(double? seconds) => seconds switch
    {
        null or < 0 or double.NaN => "—",
        < 60 => "less than a minute",
        < 3600 => $"about {Math.Ceiling(seconds.Value / 60):0} min",
        < 86400 => HoursAndMinutes((int)Math.Ceiling(seconds.Value / 300) * 5),
        _ => $"about {seconds.Value / 86400:0.#} days",
    };

    private static string HoursAndMinutes(int minutes) => minutes % 60 == 0 ? $"about {minutes / 60} h" : $"about {minutes / 60} h {minutes % 60} min";

    /// <summary>An age or interval in the coarsest unit that reads well: "40 minutes", "5 hours", "3.5 days".</summary>
    public static string Age(TimeSpan span) =>
        span.TotalDays >= 2 ? $"{span.TotalDays:0.#} days" : span.TotalHours >= 2 ? $"{span.TotalHours:0} hours" : $"{Math.Max(0, Math.Floor(span.TotalMinutes)):0} minutes";

    /// <summary>"12 minutes", "3 hours": how long something has lasted.</summary>
    public static string Minutes(TimeSpan span) =>
        span.TotalHours >= 2 ? $"{span.TotalHours:0} hours" : $"{Math.Floor(span.TotalMinutes):0} minutes";
}
