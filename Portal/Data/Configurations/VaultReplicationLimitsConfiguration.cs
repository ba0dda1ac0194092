using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Features.Replication;
using Portal.Features.Vaults;

namespace Portal.Data.Configurations;

internal sealed class VaultReplicationLimitsConfiguration : IEntityTypeConfiguration<VaultReplicationLimits>
{
    public void Configure(EntityTypeBuilder<VaultReplicationLimits> builder)
    {
        builder.ToTable("vault_replication_limits");
        builder.HasKey(l => l.VaultId);
        builder.HasOne<Vault>().WithMany().HasForeignKey(l => l.VaultId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(l => l.TimeZone).HasMaxLength(64);
        builder.Property(l => l.ChangedBy).HasMaxLength(256);
    }
}
