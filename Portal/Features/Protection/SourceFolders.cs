using Microsoft.Extensions.Options;
using Portal.Features.Common;
using Portal.Features.Identity;

namespace Portal.Features.Protection;

/// <summary>One level of the folder picker: a folder under the source roots (or the roots themselves) and its subfolders.</summary>
/// <param name="Path">The folder listed; null for the list of roots.</param>
/// <param name="Parent">The folder one level up, null at a root (then "up" shows the roots).</param>
/// <param name="Folders">The subfolders' full paths, by name; at most <see cref="SourceFolders.Limit"/>.</param>
/// <param name="More">How many subfolders were left out past the limit.</param>
public sealed record FolderListing(string? Path, string? Parent, IReadOnlyList<string> Folders, int More);

/// <summary>
/// The folder picker of "Files and folders" items on the portal host: browses only below <c>Protection:SourceRoots</c>
/// (a symbolic link that leads out is not offered, and a path that resolves outside is refused), for those who may
/// protect items. On a registered machine (<paramref name="machines"/>), its agent lists its own folders the same way
/// (inside its <c>--source-root</c> folders, links out not offered): one picker, two sources.
/// </summary>
public sealed class SourceFolders(ICurrentUser currentUser, IOptions<ProtectionOptions> options, IMachines? machines = null)
{
    /// <summary>The most subfolders one level lists (the rest are counted, and the path can still be typed).</summary>
    public const int Limit = 500;

    public async Task<FolderListing> ListAsync(string? path, CancellationToken ct = default) => await ListAsync(path, null, ct);

    /// <summary>One level of folders on the portal host (<paramref name="machineId"/> null) or on a registered machine.</summary>
    public async Task<FolderListing> ListAsync(string? path, Guid? machineId, CancellationToken ct = default)
    {
        await currentUser.RequireAnyRoleAsync("browse the folders to protect", PortalRoles.Contributor, PortalRoles.Operator);
        if (machineId is { } machine)
            return machines is null
                ? throw new PortalValidationException("SourcePath", "This portal cannot list a machine's folders: type the folder's path.")
                : await machines.ListFoldersAsync(machine, string.IsNullOrWhiteSpace(path) ? null : path, Limit, ct);
        var roots = options.Value.SourceRoots.Select(r => Path.TrimEndingDirectorySeparator(Path.GetFullPath(r))).Distinct().ToList();
        if (string.IsNullOrWhiteSpace(path))
            return new FolderListing(null, null, [.. roots.Where(Directory.Exists).Order(StringComparer.Ordinal)], 0);
        if (ProtectionRules.CheckSourcePath(path, roots, out var folder) is { } problem)
            throw new PortalValidationException("SourcePath", problem);

        var parent = roots.Contains(folder) ? null : Path.GetDirectoryName(folder);
        var folders = new List<string>();
        var more = 0;
        try
        {
            foreach (var sub in new DirectoryInfo(folder).EnumerateDirectories("*", new EnumerationOptions { IgnoreInaccessible = true, AttributesToSkip = 0 })
                         .OrderBy(d => d.Name, StringComparer.Ordinal))
            {
                ct.ThrowIfCancellationRequested();
                if (sub.LinkTarget is not null && !SafePaths.IsUnderAny(sub.FullName, roots))
                    continue; // a link out of the roots: not something this portal may back up
                if (folders.Count < Limit)
                    folders.Add(sub.FullName);
                else
                    more++;
            }
        }
        catch (UnauthorizedAccessException)
        {
            throw new PortalValidationException("SourcePath", $"The portal may not read the folder {folder}: give it read access, or choose another folder.");
        }

        return new FolderListing(folder, parent, folders, more);
    }
}
