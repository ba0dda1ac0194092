using Portal;
using Portal.Data;
using Portal.Features.Alerts;
using Portal.Features.Approvals;
using Portal.Features.Audit;
using Portal.Features.Drills;
using Portal.Features.BackupCenter;
using Portal.Features.Common;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Machines;
using Portal.Features.Attach;
using Portal.Features.Policies;
using Portal.Features.Protection;
using Portal.Features.Regions;
using Portal.Features.Replication;
using Portal.Features.Restore;
using Portal.Features.Telemetry;
using Portal.Features.Vaults;
using Portal.Features.Verification;
using Portal.Features.Workloads;

var builder = WebApplication.CreateBuilder(args);
try
{
    builder.AddPortalConfiguration();
    builder.AddPortalData();
    builder.AddPortalIdentity();
    builder.AddPortalTelemetry();
    builder.Services.AddPortalRegions();
    builder.Services.AddPortalJobs();
    builder.Services.AddPortalReplication();
    builder.Services.AddPortalAudit();
    builder.Services.AddPortalApprovals();
    builder.Services.AddPortalVaults();
    builder.Services.AddPortalPolicies();
    builder.Services.AddPortalProtection();
    builder.Services.AddPortalWorkloads();
    builder.Services.AddPortalRestore();
    builder.Services.AddPortalDrills();
    builder.Services.AddPortalVerification();
    builder.Services.AddPortalBackupCenter();
    builder.Services.AddPortalAlerts();
    builder.Services.AddPortalMachines();
    builder.Services.AddPortalAttach();
    builder.Services.AddPortalUi();

    var app = builder.Build();
    app.Services.GetRequiredService<Microsoft.Extensions.Options.IStartupValidator>().Validate(); // configuration first, before the database
    await app.Services.MigratePortalDatabaseAsync();
    app.UsePortalPipeline();
    app.Run();
    return 0;
}
catch (Exception e) when (e is PortalStartupException or Microsoft.Extensions.Options.OptionsValidationException)
{
    Console.Error.WriteLine($"portal: cannot start: {e.Message}");
    return 2;
}

/// <summary>The entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
