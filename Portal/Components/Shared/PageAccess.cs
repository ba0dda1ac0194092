using System.Security.Claims;
using Portal.Features.Identity;

namespace Portal.Components.Shared;

/// <summary>
/// Which pages a person is shown the way to: the menu and links offer only what the person can open and act on (a
/// help-desk person, Restore.Operator only, starts at Restore files and is not offered Approvals or the audit log). The
/// pages and services still check the roles themselves: hiding a link is not a permission check.
/// </summary>
public static class PageAccess
{
    /// <summary>Help-desk: Restore.Operator and no other portal role.</summary>
    public static bool IsHelpDesk(ClaimsPrincipal user) =>
        user.IsInRole(PortalRoles.RestoreOperator) && !user.IsInRole(PortalRoles.Contributor) && !user.IsInRole(PortalRoles.Operator) && !user.IsInRole(PortalRoles.Reader);

    /// <summary>Where the person starts: the Backup center, or Restore files for help-desk.</summary>
    public static string Start(ClaimsPrincipal user) => IsHelpDesk(user) ? "restore" : "";

    /// <summary>True when the portal link <paramref name="link"/> ("approvals", "audit", "items/ID" ...) is worth showing to <paramref name="user"/>.</summary>
    public static bool MayOpen(ClaimsPrincipal user, string link) => link.TrimStart('/').Split('/', '?')[0] switch
    {
        "audit" => user.IsInRole(PortalRoles.Contributor) || user.IsInRole(PortalRoles.Reader),
        "approvals" => !IsHelpDesk(user), // nothing there a help-desk person can request, approve or act on
        "" => !IsHelpDesk(user), // the Backup center: help-desk starts at Restore files
        _ => Access.Viewers.Any(user.IsInRole),
    };
}
