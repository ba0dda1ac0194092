using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Features.Drills;
using Portal.Features.Policies;
using Portal.Features.Protection;

namespace Portal.Data.Configurations;

internal sealed class DrillScheduleConfiguration : IEntityTypeConfiguration<DrillSchedule>
{
    public void Configure(EntityTypeBuilder<DrillSchedule> builder)
    {
        builder.ToTable("drill_schedules", t => t.HasCheckConstraint("ck_drill_schedules_one_owner", "(\"PolicyId\" IS NULL) <> (\"ItemId\" IS NULL)"));
        builder.HasKey(s => s.Id);
        builder.HasIndex(s => s.PolicyId).IsUnique();
        builder.HasIndex(s => s.ItemId).IsUnique();
        builder.HasOne<BackupPolicy>().WithMany().HasForeignKey(s => s.PolicyId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<BackupItem>().WithMany().HasForeignKey(s => s.ItemId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(s => s.Frequency).HasConversion<string>().HasMaxLength(16);
        builder.Property(s => s.Day).HasConversion<string>().HasMaxLength(16);
        builder.Property(s => s.Sample).HasConversion<string>().HasMaxLength(16);
        builder.Property(s => s.UpdatedBy).HasMaxLength(256);
    }
}
