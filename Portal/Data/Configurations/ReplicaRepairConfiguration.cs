using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Features.Replication;
using Portal.Features.Regions;

namespace Portal.Data.Configurations;

internal sealed class ReplicaRepairConfiguration : IEntityTypeConfiguration<ReplicaRepair>
{
    public void Configure(EntityTypeBuilder<ReplicaRepair> builder)
    {
        builder.ToTable("replica_repairs");
        builder.HasKey(r => new { r.Region, r.Replica, r.ObjectName });
        builder.Property(r => r.Region).HasMaxLength(64);
        builder.Property(r => r.ObjectName).HasMaxLength(1024);
        builder.Property(r => r.Reason).HasMaxLength(2000);
        builder.Property(r => r.LastError).HasMaxLength(2000);
    }
}

internal sealed class RegionScrubRecordConfiguration : IEntityTypeConfiguration<RegionScrubRecord>
{
    public void Configure(EntityTypeBuilder<RegionScrubRecord> builder)
    {
        builder.ToTable("region_scrubs");
        builder.HasKey(s => s.Region);
        builder.Property(s => s.Region).HasMaxLength(64);
    }
}
