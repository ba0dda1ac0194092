using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Features.Policies;
using Portal.Features.Vaults;

namespace Portal.Data.Configurations;

internal sealed class BackupPolicyConfiguration : IEntityTypeConfiguration<BackupPolicy>
{
    public void Configure(EntityTypeBuilder<BackupPolicy> builder)
    {
        builder.ToTable("backup_policies");
        builder.HasKey(p => p.Id);
        builder.Property(p => p.Name).HasMaxLength(PolicyRules.NameMaxLength).IsRequired();
        builder.Property(p => p.NormalizedName).HasMaxLength(PolicyRules.NameMaxLength).IsRequired();
        builder.HasIndex(p => new { p.VaultId, p.NormalizedName }).IsUnique();
        builder.Property(p => p.Definition).HasColumnType("jsonb").IsRequired();
        builder.Property(p => p.CreatedBy).HasMaxLength(256);
        builder.Property(p => p.UpdatedBy).HasMaxLength(256);
        builder.Property(p => p.Version).IsRowVersion();
        builder.HasOne<Vault>().WithMany().HasForeignKey(p => p.VaultId).OnDelete(DeleteBehavior.Cascade);
    }
}
