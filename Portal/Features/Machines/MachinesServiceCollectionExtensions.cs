using Portal.Features.Common;
using Portal.Features.Machines.Access;

namespace Portal.Features.Machines;

/// <summary>Machines: registration, the agents' access (authentication, store endpoint, hub), and their jobs.</summary>
public static class MachinesServiceCollectionExtensions
{
    public static IServiceCollection AddPortalMachines(this IServiceCollection services)
    {
        services.AddOptions<MachinesOptions>().BindConfiguration(MachinesOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddClusterChannel(MachineSignals.Channel);
        services.AddSingleton(sp => new MachineSignals(sp.GetRequiredService<ClusterSignals>()));
        // Access: registration, the Machine authentication scheme, the store endpoint, escrowed keys.
        services.AddMachineAccess();
        // Administration: credentials files, the machine list, revocation (the pages' service).
        services.AddScoped<Administration.MachineService>();
        // Control: the agents' hub, their connections, machine jobs.
        services.AddSingleton<Protection.IMachines, ProtectionMachines>();
        services.AddSignalR().AddHubOptions<AgentHub>(hub =>
        {
            hub.MaximumReceiveMessageSize = 1024 * 1024; // a restore's result lists its failures; the hub clips what it keeps
            hub.EnableDetailedErrors = false; // a machine hears "failed", never the portal's exception
        });
        services.AddSingleton<AgentConnections>();
        services.AddSingleton<MachinePresence>();
        services.AddSingleton<AgentControlService>();
        services.AddClusterChannel(MachineFolders.Channel);
        services.AddSingleton<MachineFolders>();
        services.AddHostedService(sp => sp.GetRequiredService<MachineFolders>());
        services.AddHostedService(sp => sp.GetRequiredService<AgentControlService>());
        return services;
    }

    public static IEndpointRouteBuilder MapPortalMachines(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapMachineAccess(); // Access
        endpoints.MapHub<AgentHub>(Engine.Agents.AgentRoutes.Hub, options =>
        {
            options.Transports = Microsoft.AspNetCore.Http.Connections.HttpTransportType.WebSockets; // one long-lived connection, nothing else
        });
        return endpoints;
    }
}
