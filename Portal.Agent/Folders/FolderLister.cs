using System.Diagnostics;
using Portal.Engine.Agents;

namespace Portal.Agent.Folders;

/// <summary>
/// Answers the portal's <see cref="AgentClientMethods.ListFolders"/>: the folders one level below a path of this machine,
/// for the folder picker of its items. Bounded in count (<see cref="MaxFolders"/>, or less if the portal asks) and in
/// time (<see cref="TimeBudget"/>: what was not reached is counted as "more"), inside the machine's source roots (the
/// <c>run --source-root</c> folders; "/" without them), and never through a symbolic link that leads out of them.
/// Errors are answered in words; nothing here throws at the portal.
/// </summary>
internal sealed class FolderLister(SourceRoots roots, TimeSpan? timeBudget = null)
{
    /// <summary>The most folders one answer names.</summary>
    public const int MaxFolders = 500;

    /// <summary>How long one listing may walk a folder before it answers with what it has.</summary>
    public static readonly TimeSpan TimeBudget = TimeSpan.FromSeconds(5);

    private readonly TimeSpan budget = timeBudget ?? TimeBudget;

    /// <summary>The answer to <paramref name="request"/>.</summary>
    public FolderListResponse List(FolderListRequest request)
    {
        var max = Math.Clamp(request.MaxFolders, 1, MaxFolders);
        if (string.IsNullOrWhiteSpace(request.Path))
            return new FolderListResponse(null, null, [.. roots.All.Where(Directory.Exists).Order(StringComparer.Ordinal).Take(max)], 0);
        if (roots.Check(request.Path, out var folder) is { } problem)
            return Refused(problem);
        if (!Directory.Exists(folder))
            return Refused($"The folder {folder} does not exist on this machine.");

        var parent = roots.All.Contains(folder, StringComparer.Ordinal) ? null : Path.GetDirectoryName(folder);
        var names = new List<string>();
        var more = 0;
        var clock = Stopwatch.StartNew();
        try
        {
            var options = new EnumerationOptions { IgnoreInaccessible = true, AttributesToSkip = 0, RecurseSubdirectories = false };
            foreach (var sub in new DirectoryInfo(folder).EnumerateDirectories("*", options))
            {
                if (sub.LinkTarget is not null && !roots.Contains(sub.FullName))
                    continue; // a link out of the roots is not something this machine backs up
                if (names.Count < max && clock.Elapsed < budget)
                    names.Add(sub.Name);
                else
                    more++;
                if (clock.Elapsed >= budget + budget)
                    break; // a folder too big to even count in time: what was counted is said
            }
        }
        catch (UnauthorizedAccessException)
        {
            return Refused($"The agent may not read the folder {folder}: give it read access, or choose another folder.");
        }
        catch (IOException e)
        {
            return Refused($"The folder {folder} cannot be listed: {e.Message}");
        }

        names.Sort(StringComparer.Ordinal);
        return new FolderListResponse(folder, parent, names, more);
    }

    private static FolderListResponse Refused(string problem) => new(null, null, [], 0, problem);
}
