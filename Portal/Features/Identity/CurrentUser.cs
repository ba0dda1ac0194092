using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;

namespace Portal.Features.Identity;

/// <summary>Who is calling a feature service. Services check roles through it, whatever the UI shows.</summary>
public interface ICurrentUser
{
    Task<ClaimsPrincipal> GetPrincipalAsync();
}

/// <summary>The user of the current Blazor circuit or request.</summary>
public sealed class AuthenticationStateCurrentUser(AuthenticationStateProvider authenticationState) : ICurrentUser
{
    public async Task<ClaimsPrincipal> GetPrincipalAsync() => (await authenticationState.GetAuthenticationStateAsync()).User;
}

public static class CurrentUserExtensions
{
    /// <summary>The name recorded as the author of a change: display name, else user name, else object id.</summary>
    public static string DisplayName(this ClaimsPrincipal user) =>
        user.FindFirst("name")?.Value
        ?? user.Identity?.Name
        ?? user.FindFirst("preferred_username")?.Value
        ?? user.FindFirst("http://schemas.microsoft.com/identity/claims/objectidentifier")?.Value
        ?? "unknown";

    /// <summary>Returns the user when they hold one of <paramref name="roles"/>; otherwise refuses <paramref name="action"/>.</summary>
    public static async Task<ClaimsPrincipal> RequireAnyRoleAsync(this ICurrentUser currentUser, string action, params string[] roles)
    {
        var user = await currentUser.GetPrincipalAsync();
        Access.Require(user, action, roles);
        return user;
    }

    public static Task<ClaimsPrincipal> RequireViewerAsync(this ICurrentUser currentUser, string action) =>
        currentUser.RequireAnyRoleAsync(action, Access.Viewers);
}
