namespace Portal.Features.Machines;

/// <summary>Machines: registration, the agents' access (authentication, store endpoint, hub), and their jobs.</summary>
public static class MachinesServiceCollectionExtensions
{
    public static IServiceCollection AddPortalMachines(this IServiceCollection services)
    {
        services.AddOptions<MachinesOptions>().BindConfiguration(MachinesOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<MachineSignals>();
        // Access: registration, the Machine authentication scheme, the store endpoint, escrowed keys.
        // Administration: credentials files, the machine list, revocation (the pages' service).
        services.AddScoped<Administration.MachineService>();
        // Control: the agents' hub, their connections, machine jobs.
        return services;
    }

    public static IEndpointRouteBuilder MapPortalMachines(this IEndpointRouteBuilder endpoints)
    {
        return endpoints;
    }
}
