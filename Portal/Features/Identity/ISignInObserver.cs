using System.Security.Claims;

namespace Portal.Features.Identity;

/// <summary>
/// Told when a user signs in (the session cookie is issued) and when one signs out (before the cookie is removed):
/// the audit log records both. Identity sits below the audit log, so it tells observers instead of writing audit rows.
/// </summary>
public interface ISignInObserver
{
    /// <param name="method">How the user signed in, in words ("Entra ID", "development sign-in").</param>
    Task SignedInAsync(ClaimsPrincipal user, string method);

    Task SigningOutAsync(ClaimsPrincipal user);
}
