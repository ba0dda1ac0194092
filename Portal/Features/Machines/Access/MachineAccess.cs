using Microsoft.AspNetCore.Authorization;
using Portal.Engine.Agents;
using Portal.Features.Audit;

namespace Portal.Features.Machines.Access;

/// <summary>Registration, the <c>Machine</c> authentication scheme, the store endpoint and escrowed keys: how agents reach the portal.</summary>
public static class MachineAccess
{
    /// <summary>Adds the agents' access services, the <c>Machine</c> scheme (never the default) and <see cref="MachinePolicies.Agent"/>.</summary>
    public static IServiceCollection AddMachineAccess(this IServiceCollection services)
    {
        services.AddDataProtection();
        services.AddSingleton<EscrowKeys>();
        services.AddSingleton<MachineDirectory>();
        services.AddSingleton<MachineStoreAccess>();
        services.AddSingleton<MachineKeys>();
        services.AddScoped<MachineRegistration>();
        services.AddAuthentication()
            .AddScheme<MachineAuthenticationOptions, MachineAuthenticationHandler>(MachineToken.Scheme, "Portal.Agent machines", _ => { });
        services.AddAuthorizationBuilder().AddPolicy(MachinePolicies.Agent, policy => policy
            .AddAuthenticationSchemes(MachineToken.Scheme)
            .RequireAuthenticatedUser()
            .RequireClaim(MachineClaims.Vault)
            .RequireAssertion(context => context.User.MachineId() is not null));
        services.AddTransient<IStartupFilter, StoreNameFilter>();
        return services;
    }

    /// <summary>Maps registration (anonymous), the store, the escrowed key and unregister (machines only).</summary>
    public static IEndpointRouteBuilder MapMachineAccess(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(AgentRoutes.Register, (HttpContext http, MachineRegistration registration) => AgentAnswers.RunAsync(http, async () =>
        {
            var request = await AgentAnswers.ReadAsync<RegisterRequest>(http, "the registration (RegisterRequest)");
            return Results.Json(await registration.RegisterAsync(request, http.RequestAborted));
        })).AllowAnonymous().DisableAntiforgery();

        endpoints.MapPost(AgentRoutes.RepositoryKey, (HttpContext http, MachineKeys keys, AuditLog audit) => AgentAnswers.RunAsync(http, async () =>
        {
            var request = await AgentAnswers.ReadAsync<RepositoryKeyRequest>(http, "the repository key (RepositoryKeyRequest)");
            try
            {
                var resource = await keys.AcceptAsync(http.User.MachineId()!.Value, request, http.RequestAborted);
                await audit.RecordAsync(http.User, MachineAuditActions.EscrowKey, resource, AuditOutcome.Succeeded, $"Repository {request.RepositoryId}.");
                return Results.NoContent();
            }
            catch (MachineKeyUnavailableException e)
            {
                return AgentAnswers.Problem(503, e.Message);
            }
        })).RequireAuthorization(MachinePolicies.Agent).DisableAntiforgery();

        endpoints.MapPost(AgentRoutes.Unregister, (HttpContext http, MachineRegistration registration) => AgentAnswers.RunAsync(http, async () =>
        {
            await registration.UnregisterAsync(http.User.MachineId()!.Value, http.RequestAborted);
            return Results.NoContent();
        })).RequireAuthorization(MachinePolicies.Agent).DisableAntiforgery();

        endpoints.MapMachineStore();
        return endpoints;
    }

    /// <summary>
    /// Judges a store request's object name as sent, before the server's path normalization can turn an encoded
    /// <c>data/%2E%2E/%2E%2E/x</c> into another route: a name that is not valid is a 400 whatever it would have reached.
    /// </summary>
    private sealed class StoreNameFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (http, proceed) =>
            {
                if (MachineStoreEndpoint.RequestedName(http) is { Length: > 0 } name && !MachineStoreEndpoint.IsValidName(name))
                {
                    AgentAnswers.NoStatusPages(http);
                    await AgentAnswers.WriteAsync(http, 400, MachineStoreEndpoint.InvalidName(name));
                    return;
                }

                await proceed();
            });
            next(app);
        };
    }
}
