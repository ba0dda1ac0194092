using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Identity.Web;

using Portal.Features.Common;

namespace Portal.Features.Identity;

public static class IdentityServiceCollectionExtensions
{
    /// <summary>The session cookie lives at most this long; Entra signs the user in again after it.</summary>
    private static readonly TimeSpan CookieLifetime = TimeSpan.FromHours(8);

    /// <summary>
    /// Entra ID through Microsoft.Identity.Web when <c>AzureAd:ClientId</c> is set; otherwise, in Development
    /// only, the local sign-in. Anything else is a configuration error reported at start.
    /// Every page and endpoint needs a signed-in user unless marked <c>[AllowAnonymous]</c>.
    /// </summary>
    public static WebApplicationBuilder AddPortalIdentity(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var mode = new SignInMode(UsesEntra: !string.IsNullOrWhiteSpace(builder.Configuration["AzureAd:ClientId"]));
        services.AddSingleton(mode);
        services.AddSingleton<LocalSignIn>();

        if (mode.UsesEntra)
        {
            services.AddAuthentication(OpenIdConnectDefaults.AuthenticationScheme)
                .AddMicrosoftIdentityWebApp(builder.Configuration.GetSection("AzureAd"));
            services.Configure<CookieAuthenticationOptions>(CookieAuthenticationDefaults.AuthenticationScheme, BoundCookie);
        }
        else
        {
            if (!builder.Environment.IsDevelopment())
                throw new PortalStartupException(
                    "Sign-in is not configured: set AzureAd:Instance, AzureAd:TenantId, AzureAd:ClientId and a client secret or " +
                    "certificate (see README, \"Sign-in\"). The local sign-in exists only in Development.");
            services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
                .AddCookie(options =>
                {
                    BoundCookie(options);
                    options.LoginPath = "/account/dev-signin";
                });
        }

        services.AddAuthorizationBuilder().AddPortalPolicies();
        services.AddCascadingAuthenticationState();
        services.AddScoped<ICurrentUser, AuthenticationStateCurrentUser>();
        return builder;
    }

    /// <summary>Deny by default (a signed-in user everywhere) and the portal's role policies.</summary>
    public static AuthorizationBuilder AddPortalPolicies(this AuthorizationBuilder authorization) => authorization
        .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
        .AddPolicy(PortalPolicies.View, p => p.RequireRole(PortalRoles.All))
        .AddPolicy(PortalPolicies.ManageVaults, p => p.RequireRole(PortalRoles.Contributor))
        .AddPolicy(PortalPolicies.ReadAudit, p => p.RequireRole(PortalRoles.Contributor, PortalRoles.Reader))
        .AddPolicy(PortalPolicies.Protect, p => p.RequireRole(PortalRoles.Contributor, PortalRoles.Operator));

    /// <summary>Sign-in (a challenge) and sign-out (a form post, so antiforgery applies).</summary>
    public static IEndpointRouteBuilder MapPortalIdentity(this IEndpointRouteBuilder endpoints)
    {
        var mode = endpoints.ServiceProvider.GetRequiredService<SignInMode>();
        endpoints.MapGet("/account/signin", (string? returnUrl, LocalSignIn local) =>
                Results.Challenge(new AuthenticationProperties { RedirectUri = local.SafeReturnUrl(returnUrl) }))
            .AllowAnonymous();
        endpoints.MapPost("/account/signout", async (HttpContext http, IAntiforgery antiforgery, IEnumerable<ISignInObserver> observers) =>
        {
            // A minimal API that binds no form is not checked by UseAntiforgery: check the token here, or any site could sign users out.
            try
            {
                await antiforgery.ValidateRequestAsync(http);
            }
            catch (AntiforgeryValidationException)
            {
                return Results.Problem("The sign-out form has expired or did not come from this portal: reload the page and sign out again.", statusCode: 400);
            }

            foreach (var observer in observers)
                await observer.SigningOutAsync(http.User);
            await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            if (mode.UsesEntra)
                return Results.SignOut(new AuthenticationProperties { RedirectUri = "/" }, [OpenIdConnectDefaults.AuthenticationScheme]);
            return Results.LocalRedirect("/");
        });
        return endpoints;
    }

    private static void BoundCookie(CookieAuthenticationOptions options)
    {
        options.Events.OnSignedIn = async context =>
        {
            var method = context.Principal!.Identity?.AuthenticationType == LocalSignIn.AuthenticationType ? "development sign-in" : "Entra ID";
            foreach (var observer in context.HttpContext.RequestServices.GetServices<ISignInObserver>())
                await observer.SignedInAsync(context.Principal!, method);
        };
        options.AccessDeniedPath = "/account/access-denied";
        options.Cookie.Name = "portal.auth";
        options.Cookie.HttpOnly = true;
        options.Cookie.SameSite = SameSiteMode.Lax;
        options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        options.ExpireTimeSpan = CookieLifetime;
        options.SlidingExpiration = false;
    }
}
