using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;

namespace Portal.Features.Identity;

/// <summary>
/// The development sign-in: a local operator with chosen roles and the claim shape of Entra ID.
/// Allowed only in Development, with no Entra ID configured, for requests from this machine.
/// </summary>
public sealed class LocalSignIn(IHostEnvironment environment, SignInMode mode)
{
    public const string ObjectIdClaim = "http://schemas.microsoft.com/identity/claims/objectidentifier";
    public const string AuthenticationType = "LocalDevelopment";
    public const string TenantIdClaim = "http://schemas.microsoft.com/identity/claims/tenantid";

    public bool IsAllowed(HttpContext http) =>
        environment.IsDevelopment() && !mode.UsesEntra
        && http.Connection.RemoteIpAddress is { } ip && IPAddress.IsLoopback(ip);

    public ClaimsPrincipal CreatePrincipal(string name, IReadOnlyList<string> roles)
    {
        var objectId = new Guid(SHA256.HashData(Encoding.UTF8.GetBytes("local-operator:" + name)).AsSpan(0, 16)).ToString();
        var claims = new List<Claim>
        {
            new("name", name),
            new("preferred_username", name),
            new(ObjectIdClaim, objectId),
            new(TenantIdClaim, "local"),
        };
        claims.AddRange(roles.Select(r => new Claim(ClaimTypes.Role, r)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, AuthenticationType, "name", ClaimTypes.Role));
    }

    /// <summary>Only local paths: an open redirect to another site is never followed.</summary>
    public string SafeReturnUrl(string? returnUrl) =>
        !string.IsNullOrEmpty(returnUrl) && returnUrl.StartsWith('/') && !returnUrl.StartsWith("//") && !returnUrl.StartsWith("/\\")
            ? returnUrl
            : "/";
}

/// <summary>How users sign in, decided once at start from configuration.</summary>
public sealed record SignInMode(bool UsesEntra);

public sealed class DevSignInInput
{
    [Required(ErrorMessage = "Enter a name.")]
    [StringLength(64, MinimumLength = 2, ErrorMessage = "A name has 2 to 64 characters.")]
    public string Name { get; set; } = "Local operator";

    public bool Contributor { get; set; } = true;
    public bool Operator { get; set; }
    public bool Reader { get; set; }
    public bool RestoreOperator { get; set; }

    public IReadOnlyList<string> SelectedRoles() =>
    [
        .. Contributor ? [PortalRoles.Contributor] : Array.Empty<string>(),
        .. Operator ? [PortalRoles.Operator] : Array.Empty<string>(),
        .. Reader ? [PortalRoles.Reader] : Array.Empty<string>(),
        .. RestoreOperator ? [PortalRoles.RestoreOperator] : Array.Empty<string>(),
    ];
}
