using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Features.Jobs;

namespace Portal.Data.Configurations;

internal sealed class JobConfiguration : IEntityTypeConfiguration<Job>
{
    public void Configure(EntityTypeBuilder<Job> builder)
    {
        builder.ToTable("jobs");
        builder.HasKey(j => j.Id);
        builder.Property(j => j.Kind).HasConversion<string>().HasMaxLength(16);
        builder.Property(j => j.Status).HasConversion<string>().HasMaxLength(24);
        builder.Property(j => j.VaultName).HasMaxLength(64);
        builder.Property(j => j.Subject).HasMaxLength(512);
        builder.Property(j => j.StartedBy).HasMaxLength(256);
        builder.Property(j => j.Phase).HasMaxLength(64);
        builder.Property(j => j.Message).HasMaxLength(8000);
        builder.Property(j => j.Version).IsRowVersion();
        builder.HasIndex(j => j.QueuedAt);
        builder.HasIndex(j => new { j.VaultId, j.QueuedAt });
        builder.HasIndex(j => new { j.Status, j.HeartbeatAt });
        builder.HasIndex(j => new { j.ItemId, j.QueuedAt });
        builder.Property(j => j.CurrentPath).HasMaxLength(1024);
        builder.Property(j => j.Operation).HasMaxLength(64);
        builder.Property(j => j.Input).HasColumnType("jsonb");
        builder.Property(j => j.ConcurrencyKey).HasMaxLength(128);
        builder.Property(j => j.RunBy).HasMaxLength(256);
        builder.HasIndex(j => new { j.Status, j.ConcurrencyKey });
        builder.HasIndex(j => new { j.MachineId, j.Status });
        builder.Ignore(j => j.EtaSeconds);
    }
}

internal sealed class JobLogEntryConfiguration : IEntityTypeConfiguration<JobLogEntry>
{
    public void Configure(EntityTypeBuilder<JobLogEntry> builder)
    {
        builder.ToTable("job_log");
        builder.HasKey(e => e.Id);
        builder.Property(e => e.Level).HasConversion<string>().HasMaxLength(16);
        builder.Property(e => e.Text).HasMaxLength(4000);
        builder.HasOne<Job>().WithMany().HasForeignKey(e => e.JobId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(e => new { e.JobId, e.Id });
    }
}
