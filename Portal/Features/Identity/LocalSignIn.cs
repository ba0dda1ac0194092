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

    /// <summary>
    /// Headers a reverse proxy adds: behind one on this machine the TCP peer is loopback for everyone, so a request
    /// carrying any of them is refused whatever its peer.
    /// </summary>
    public static readonly string[] ForwardingHeaders = ["Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-IP", "X-Original-For"];

    /// <summary>
    /// Development, no Entra ID, a loopback peer, a loopback Host (localhost, 127.0.0.0/8, [::1]) and no forwarding header:
    /// a request that reached the portal through a proxy, even one on this machine, is not from this machine.
    /// </summary>
    public bool IsAllowed(HttpContext http) =>
        environment.IsDevelopment() && !mode.UsesEntra
        && http.Connection.RemoteIpAddress is { } ip && IPAddress.IsLoopback(ip)
        && LoopbackHost(http.Request.Host)
        && !ForwardingHeaders.Any(http.Request.Headers.ContainsKey);

    private static bool LoopbackHost(HostString host) =>
        host.HasValue && (string.Equals(host.Host, "localhost", StringComparison.OrdinalIgnoreCase)
                          || (IPAddress.TryParse(host.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address)));

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
