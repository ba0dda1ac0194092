namespace Portal.Features.Reports;

public static class ReportsServiceCollectionExtensions
{
    /// <summary>The reports and their CSV exports (called by AddPortalBackupCenter, whose trends use them).</summary>
    public static IServiceCollection AddPortalReports(this IServiceCollection services)
    {
        services.AddScoped<ReportService>();
        services.AddScoped<ComplianceReport>();
        return services;
    }
}
