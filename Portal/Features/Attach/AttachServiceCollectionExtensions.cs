using Portal.Features.Vaults;

namespace Portal.Features.Attach;

public static class AttachServiceCollectionExtensions
{
    /// <summary>The vault manifest writer (every feature's changes reach it through <see cref="IVaultManifest"/>) and the attach service.</summary>
    public static IServiceCollection AddPortalAttach(this IServiceCollection services)
    {
        services.AddSingleton<VaultManifestWriter>();
        services.AddSingleton<IVaultManifest>(sp => sp.GetRequiredService<VaultManifestWriter>());
        services.AddScoped<AttachService>();
        return services;
    }
}
