using System.Security.Claims;
using Portal.Features.Common;

namespace Portal.Features.Identity;

/// <summary>Role checks for feature services: the one place that says who may do what.</summary>
public static class Access
{
    /// <summary>Everyone with a portal role: every page is readable by all four.</summary>
    public static readonly string[] Viewers = [.. PortalRoles.All];

    /// <summary>Throws <see cref="PortalAccessDeniedException"/> unless <paramref name="user"/> holds one of <paramref name="roles"/>.</summary>
    public static void Require(ClaimsPrincipal user, string action, params string[] roles)
    {
        if (user.Identity?.IsAuthenticated != true)
            throw new PortalAccessDeniedException($"Sign in to {action}.");
        if (!roles.Any(user.IsInRole))
            throw new PortalAccessDeniedException(
                $"You can't {action}: that needs the {string.Join(" or ", roles)} role. Ask a Backup.Contributor to grant it in Entra ID.");
    }

    /// <summary>The stable id of the user (Entra object id), used to tell requester and approver apart.</summary>
    public static string ObjectId(this ClaimsPrincipal user) =>
        user.FindFirst(LocalSignIn.ObjectIdClaim)?.Value ?? user.FindFirst("oid")?.Value ?? user.Identity?.Name ?? "";
}
