using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Features.Vaults;
using Portal.Features.Verification;

namespace Portal.Data.Configurations;

internal sealed class VaultVerificationConfiguration : IEntityTypeConfiguration<VaultVerification>
{
    public void Configure(EntityTypeBuilder<VaultVerification> builder)
    {
        builder.ToTable("vault_verifications");
        builder.HasKey(v => v.VaultId);
        builder.HasOne<Vault>().WithMany().HasForeignKey(v => v.VaultId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(v => v.ChangedBy).HasMaxLength(256);
    }
}

internal sealed class RepositoryVerificationConfiguration : IEntityTypeConfiguration<RepositoryVerification>
{
    public void Configure(EntityTypeBuilder<RepositoryVerification> builder)
    {
        builder.ToTable("repository_verifications");
        builder.HasKey(r => new { r.VaultId, r.Repository });
        builder.HasOne<Vault>().WithMany().HasForeignKey(r => r.VaultId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(r => r.Repository).HasMaxLength(64);
        builder.Property(r => r.Cursor).HasMaxLength(128);
    }
}
