using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Features.Alerts;

namespace Portal.Data.Configurations;

internal sealed class AlertConfiguration : IEntityTypeConfiguration<Alert>
{
    public void Configure(EntityTypeBuilder<Alert> builder)
    {
        builder.ToTable("alerts");
        builder.HasKey(a => a.Id);
        builder.Property(a => a.Key).HasMaxLength(300);
        builder.Property(a => a.Kind).HasMaxLength(64);
        builder.Property(a => a.Severity).HasConversion<string>().HasMaxLength(16);
        builder.Property(a => a.State).HasConversion<string>().HasMaxLength(16);
        builder.Property(a => a.VaultName).HasMaxLength(64);
        builder.Property(a => a.ItemName).HasMaxLength(256);
        builder.Property(a => a.Link).HasMaxLength(300);
        builder.Property(a => a.Title).HasMaxLength(300);
        builder.Property(a => a.Cause).HasMaxLength(4000);
        builder.Property(a => a.NextStep).HasMaxLength(2000);
        builder.Property(a => a.ResolvedBy).HasMaxLength(256);
        builder.Property(a => a.Resolution).HasMaxLength(2000);
        builder.Property(a => a.AcknowledgedBy).HasMaxLength(256);
        builder.Property(a => a.Version).IsRowVersion();
        // One active alert per problem: a second raise of the same key counts on the first (and two instances racing meet here).
        builder.HasIndex(a => a.Key).IsUnique().HasFilter("\"State\" = 'Active'").HasDatabaseName("IX_alerts_Key_Active");
        builder.HasIndex(a => new { a.State, a.Severity });
        builder.HasIndex(a => a.LastRaisedAt);
    }
}

internal sealed class AlertDeliveryConfiguration : IEntityTypeConfiguration<AlertDelivery>
{
    public void Configure(EntityTypeBuilder<AlertDelivery> builder)
    {
        builder.ToTable("alert_deliveries");
        builder.HasKey(d => d.Id);
        builder.Property(d => d.Event).HasConversion<string>().HasMaxLength(16);
        builder.Property(d => d.Channel).HasConversion<string>().HasMaxLength(16);
        builder.Property(d => d.State).HasConversion<string>().HasMaxLength(16);
        builder.Property(d => d.Target).HasMaxLength(2000);
        builder.Property(d => d.Payload).HasColumnType("jsonb");
        builder.Property(d => d.LastError).HasMaxLength(2000);
        builder.HasOne<Alert>().WithMany().HasForeignKey(d => d.AlertId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(d => new { d.State, d.NextAttemptAt });
        builder.HasIndex(d => d.AlertId);
    }
}
