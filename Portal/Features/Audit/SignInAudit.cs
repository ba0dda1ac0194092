using System.Security.Claims;
using Portal.Features.Identity;

namespace Portal.Features.Audit;

/// <summary>Sign-ins and sign-outs as audit rows (resource "portal").</summary>
public sealed class SignInAudit(AuditLog audit) : ISignInObserver
{
    public Task SignedInAsync(ClaimsPrincipal user, string method) =>
        audit.RecordAsync(user, AuditActions.SignIn, "portal", AuditOutcome.Succeeded, method);

    public Task SigningOutAsync(ClaimsPrincipal user) =>
        audit.RecordAsync(user, AuditActions.SignOut, "portal", AuditOutcome.Succeeded, null);
}
