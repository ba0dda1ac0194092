using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Features.Vaults;

namespace Portal.Data.Configurations;

internal sealed class VaultConfiguration : IEntityTypeConfiguration<Vault>
{
    public void Configure(EntityTypeBuilder<Vault> builder)
    {
        builder.ToTable("vaults");
        builder.HasKey(v => v.Id);
        builder.Property(v => v.Name).HasMaxLength(VaultRules.NameMaxLength).IsRequired();
        builder.Property(v => v.NormalizedName).HasMaxLength(VaultRules.NameMaxLength).IsRequired();
        builder.HasIndex(v => v.NormalizedName).IsUnique();
        builder.Property(v => v.Region).HasMaxLength(64).IsRequired();
        builder.Property(v => v.Redundancy).HasConversion<string>().HasMaxLength(8);
        builder.Property(v => v.Immutability).HasConversion<string>().HasMaxLength(16);
        builder.Property(v => v.CreatedBy).HasMaxLength(256);
        builder.Property(v => v.UpdatedBy).HasMaxLength(256);
        builder.Property(v => v.Version).IsRowVersion();
    }
}
