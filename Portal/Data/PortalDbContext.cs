using Microsoft.EntityFrameworkCore;
using Portal.Features.Alerts;
using Portal.Features.Approvals;
using Portal.Features.Audit;
using Portal.Features.Jobs;
using Portal.Features.Policies;
using Portal.Features.Protection;
using Portal.Features.Replication;
using Portal.Features.Vaults;
using Portal.Features.BackupCenter;
using Portal.Features.Regions;

namespace Portal.Data;

public sealed class PortalDbContext(DbContextOptions<PortalDbContext> options) : DbContext(options)
{
    public DbSet<Vault> Vaults => Set<Vault>();
    public DbSet<BackupItem> BackupItems => Set<BackupItem>();
    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();
    public DbSet<ApprovalRequest> ApprovalRequests => Set<ApprovalRequest>();
    public DbSet<Alert> Alerts => Set<Alert>();
    public DbSet<AlertDelivery> AlertDeliveries => Set<AlertDelivery>();
    public DbSet<AlertRecipientSettings> AlertRecipients => Set<AlertRecipientSettings>();
    public DbSet<BackupPolicy> BackupPolicies => Set<BackupPolicy>();
    public DbSet<Job> Jobs => Set<Job>();
    public DbSet<JobLogEntry> JobLog => Set<JobLogEntry>();
    public DbSet<RecoveryPoint> RecoveryPoints => Set<RecoveryPoint>();
    public DbSet<VaultKey> VaultKeys => Set<VaultKey>();
    public DbSet<Features.Reports.StorageUsage> StorageUsage => Set<Features.Reports.StorageUsage>();
    public DbSet<ReplicaRepair> ReplicaRepairs => Set<ReplicaRepair>();
    public DbSet<RegionScrubRecord> RegionScrubs => Set<RegionScrubRecord>();
    public DbSet<Features.Machines.Machine> Machines => Set<Features.Machines.Machine>();
    public DbSet<Features.Machines.MachineCredential> MachineCredentials => Set<Features.Machines.MachineCredential>();
    public DbSet<Features.Machines.VaultEscrowKey> VaultEscrowKeys => Set<Features.Machines.VaultEscrowKey>();
    public DbSet<Features.Drills.RecoveryDrill> RecoveryDrills => Set<Features.Drills.RecoveryDrill>();
    public DbSet<Features.Verification.VaultVerification> VaultVerifications => Set<Features.Verification.VaultVerification>();
    public DbSet<Features.Verification.RepositoryVerification> RepositoryVerifications => Set<Features.Verification.RepositoryVerification>();
    public DbSet<Features.Drills.DrillSchedule> DrillSchedules => Set<Features.Drills.DrillSchedule>();
    public DbSet<Features.Replication.VaultReplicationLimits> VaultReplicationLimits => Set<Features.Replication.VaultReplicationLimits>();
    public DbSet<Features.Protection.VaultUploadLimits> VaultUploadLimits => Set<Features.Protection.VaultUploadLimits>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(PortalDbContext).Assembly);
}
