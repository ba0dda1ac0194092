using System.Globalization;
using System.Text;

namespace Portal.Features.Common;

/// <summary>
/// RFC 4180 CSV, the portal's one writer (reports, the audit log): text that a spreadsheet would run as a formula
/// (=, +, -, @, tab or CR first) is quoted and prefixed with '; times are ISO 8601 UTC, numbers invariant.
/// </summary>
public static class Csv
{
    /// <summary>One line of fields (without its line break), for exports written row by row.</summary>
    public static string Line(params object?[] fields) => string.Join(',', fields.Select(Field));

    public static string Write<T>(IEnumerable<T> rows, params (string Header, Func<T, object?> Value)[] columns)
    {
        var text = new StringBuilder();
        text.AppendJoin(',', columns.Select(c => Field(c.Header))).Append("\r\n");
        foreach (var row in rows)
            text.AppendJoin(',', columns.Select(c => Field(c.Value(row)))).Append("\r\n");
        return text.ToString();
    }

    private static string Field(object? value) => value switch
    {
        null => "",
        string s => Text(s),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateTime t => t.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        double d => d.ToString("0.####", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => Text(value.ToString() ?? ""),
    };

    private static string Text(string s)
    {
        if (s.Length > 0 && s[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
            s = "'" + s;
        return s.IndexOfAny([',', '"', '\r', '\n']) >= 0 || s.StartsWith('\'') ? $"\"{s.Replace("\"", "\"\"")}\"" : s;
    }
}
