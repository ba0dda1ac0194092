using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Features.Protection;
using Portal.Features.Vaults;

namespace Portal.Data.Configurations;

internal sealed class VaultUploadLimitsConfiguration : IEntityTypeConfiguration<VaultUploadLimits>
{
    public void Configure(EntityTypeBuilder<VaultUploadLimits> builder)
    {
        builder.ToTable("vault_upload_limits");
        builder.HasKey(l => l.VaultId);
        builder.HasOne<Vault>().WithMany().HasForeignKey(l => l.VaultId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(l => l.TimeZone).HasMaxLength(64);
        builder.Property(l => l.ChangedBy).HasMaxLength(256);
    }
}
