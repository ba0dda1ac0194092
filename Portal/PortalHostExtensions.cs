using Portal.Features.Drills;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Configuration.Json;
using MudBlazor.Services;
using Portal.Components;
using Portal.Features.Audit;
using Portal.Features.Jobs;
using Portal.Features.Identity;
using Portal.Features.Machines;
using Portal.Features.Reports;
using Portal.Features.Restore;

namespace Portal;

/// <summary>The host's own wiring: configuration, UI services and the request pipeline.</summary>
public static class PortalHostExtensions
{
    /// <summary>Loads the repository-root appsettings.json (copied next to the binaries) beneath the other sources.</summary>
    public static WebApplicationBuilder AddPortalConfiguration(this WebApplicationBuilder builder)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "appsettings.json");
        var sources = builder.Configuration.Sources;
        var at = sources.TakeWhile(s => s is not JsonConfigurationSource).Count();
        var source = new JsonConfigurationSource { Path = path, Optional = false, ReloadOnChange = false };
        source.ResolveFileProvider();
        sources.Insert(at, source);
        builder.Services.AddSingleton(TimeProvider.System);
        return builder;
    }

    public static IServiceCollection AddPortalUi(this IServiceCollection services)
    {
        services.AddRazorComponents().AddInteractiveServerComponents()
            .AddHubOptions(hub => hub.MaximumReceiveMessageSize = Features.Common.FieldLimits.CircuitMessageBytes); // fields stay within it: see FieldLimits
        services.AddMudServices();
        // Our own header says DENY (and the CSP frame-ancestors 'none'); antiforgery would add a conflicting SAMEORIGIN.
        services.AddAntiforgery(options => options.SuppressXFrameOptionsHeader = true);
        services.AddHttpContextAccessor();
        return services;
    }

    public static WebApplication UsePortalPipeline(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/Error", createScopeForErrors: true);
            app.UseHsts();
        }

        app.Use(SecurityHeaders);
        app.UseStatusCodePagesWithReExecute("/not-found");
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();

        app.MapHealthChecks("/healthz", new HealthCheckOptions
        {
            ResponseWriter = (http, report) => http.Response.WriteAsJsonAsync(new
            {
                status = report.Status.ToString(),
                database = report.Entries.TryGetValue("database", out var db) ? db.Status.ToString() : "Unknown",
            }),
        }).AllowAnonymous();
        app.MapStaticAssets().AllowAnonymous();
        app.MapPortalIdentity();
        app.MapPortalAudit();
        app.MapPortalJobs();
        app.MapPortalRestore();
        app.MapPortalReports();
        app.MapPortalDrills();
        app.MapPortalMachines();
        // Our CSP already says frame-ancestors 'none'; Blazor would add a second CSP header with 'self'.
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode(options => options.ContentSecurityFrameAncestorsPolicy = null);
        return app;
    }

    /// <summary>Frame denial, no-sniff, and a CSP that allows what Blazor Server and MudBlazor need.</summary>
    private static Task SecurityHeaders(HttpContext http, Func<Task> next)
    {
        var headers = http.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "same-origin";
        headers.ContentSecurityPolicy =
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
            "font-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'";
        return next();
    }
}
