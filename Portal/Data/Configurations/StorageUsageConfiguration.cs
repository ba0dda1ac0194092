using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Features.Reports;

namespace Portal.Data.Configurations;

internal sealed class StorageUsageConfiguration : IEntityTypeConfiguration<StorageUsage>
{
    public void Configure(EntityTypeBuilder<StorageUsage> builder)
    {
        builder.ToTable("storage_usage");
        builder.HasKey(s => new { s.VaultId, s.Region, s.Day });
        builder.Property(s => s.Region).HasMaxLength(64);
        builder.HasIndex(s => s.Day);
        builder.HasOne<Features.Vaults.Vault>().WithMany().HasForeignKey(s => s.VaultId).OnDelete(DeleteBehavior.Cascade);
    }
}
