namespace Portal.Features.BackupCenter;

public static class BackupCenterServiceCollectionExtensions
{
    public static IServiceCollection AddPortalBackupCenter(this IServiceCollection services) => services.AddScoped<BackupCenterService>();
}
