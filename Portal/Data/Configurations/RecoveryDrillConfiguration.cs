using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Features.Drills;

namespace Portal.Data.Configurations;

internal sealed class RecoveryDrillConfiguration : IEntityTypeConfiguration<RecoveryDrill>
{
    public void Configure(EntityTypeBuilder<RecoveryDrill> builder)
    {
        builder.ToTable("recovery_drills");
        builder.HasKey(d => d.Id);
        builder.HasIndex(d => new { d.ItemId, d.FinishedAt });
        builder.Property(d => d.SnapshotId).HasMaxLength(64).IsRequired();
        builder.Property(d => d.Result).HasConversion<string>().HasMaxLength(16);
        builder.Property(d => d.Detail).HasMaxLength(4000);
        builder.Property(d => d.RequestedBy).HasMaxLength(256);
        builder.Property(d => d.Sample).HasMaxLength(64);
        builder.Property(d => d.SampleCursor).HasMaxLength(64);
        builder.Property(d => d.ConfiguredBy).HasMaxLength(256);
    }
}
