using Portal.Features.Jobs;

namespace Portal.Features.Restore;

/// <summary>
/// What a restore job tells in its log besides its counts, for people reading the job and for the wizard's result: where
/// the chosen files and folders went, and each "Copy of" file it made next to one already there. One place writes and
/// reads these lines, so the wizard never guesses at wording.
/// </summary>
public static class RestoreReport
{
    private const string WentTo = "Restored to: ";
    private const string CopyMade = "Saved as a copy next to the file already there: ";

    /// <summary>At most this many lines of each kind are logged; the counts still count every file.</summary>
    public const int MaxLines = 200;

    /// <summary>
    /// The log lines of a restore into <paramref name="target"/> of <paramref name="paths"/> (empty: everything), which made
    /// <paramref name="copies"/> (relative to the target). Paths are joined with '/', as on the machine that restored them.
    /// </summary>
    public static IReadOnlyList<string> Lines(string target, IEnumerable<string> paths, IReadOnlyList<string> copies)
    {
        var chosen = paths.Select(p => p.Trim().Trim('/')).Where(p => p.Length > 0).Distinct().ToList();
        var lines = new List<string>();
        lines.AddRange((chosen.Count == 0 ? [target] : chosen.Select(p => Join(target, p))).Take(MaxLines).Select(p => WentTo + p));
        lines.AddRange(copies.Take(MaxLines).Select(c => CopyMade + Join(target, c)));
        if (copies.Count > MaxLines)
            lines.Add($"… and {copies.Count - MaxLines:N0} more copies (every one is named PREFIX + the file's name, next to it).");
        return lines;
    }

    /// <summary>The destinations and copies a restore job logged with <see cref="Lines"/>.</summary>
    public static (IReadOnlyList<string> Destinations, IReadOnlyList<string> Copies) Read(IEnumerable<JobLogEntry> log)
    {
        var info = log.Where(l => l.Level == JobLogLevel.Info).Select(l => l.Text).ToList();
        return ([.. info.Where(t => t.StartsWith(WentTo, StringComparison.Ordinal)).Select(t => t[WentTo.Length..])],
            [.. info.Where(t => t.StartsWith(CopyMade, StringComparison.Ordinal)).Select(t => t[CopyMade.Length..])]);
    }

    /// <summary>
    /// "Restored 2 files (29 B) to /srv/share, 1 of them as a copy next to the file already there; skipped 0 already there; 0 failed."
    /// A resumed or retried restore also keeps files already restored (<paramref name="alreadyComplete"/>: same size and
    /// content), and <paramref name="copies"/> then counts the copies it kept too: "Restored 1 file (11 B) to /srv/share;
    /// kept 2 already restored (same size and content); 1 of the 3 is a copy next to the file already there; …".
    /// </summary>
    public static string Counts(long files, long bytes, string destination, long copies, long alreadyComplete, long skipped, int failed) =>
        $"Restored {Plural(files, "file")} ({Common.Format.Bytes(bytes)}) to {destination}" +
        (alreadyComplete == 0
            ? (copies > 0 ? $", {copies:N0} of them as {(copies == 1 ? "a copy" : "copies")} next to the file{(copies == 1 ? "" : "s")} already there" : "") + "; "
            : $"; kept {alreadyComplete:N0} already restored (same size and content); " +
              (copies > 0 ? $"{copies:N0} of the {files + alreadyComplete:N0} {(copies == 1 ? "is a copy" : "are copies")} next to the file{(copies == 1 ? "" : "s")} already there; " : "")) +
        $"skipped {skipped:N0} already there; {failed:N0} failed.";

    private static string Plural(long n, string noun) => $"{n:N0} {noun}{(n == 1 ? "" : "s")}";

    private static string Join(string folder, string relative) => folder.TrimEnd('/') + "/" + relative;
}
