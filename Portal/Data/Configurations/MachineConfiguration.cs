using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Features.Machines;
using Portal.Features.Vaults;

namespace Portal.Data.Configurations;

internal sealed class MachineConfiguration : IEntityTypeConfiguration<Machine>
{
    public void Configure(EntityTypeBuilder<Machine> builder)
    {
        builder.ToTable("machines");
        builder.HasKey(m => m.Id);
        builder.HasOne<Vault>().WithMany().HasForeignKey(m => m.VaultId).OnDelete(DeleteBehavior.Cascade); // a vault is deleted once its items are purged
        builder.Property(m => m.Name).HasMaxLength(253);
        builder.Property(m => m.NormalizedName).HasMaxLength(253);
        builder.Property(m => m.OperatingSystem).HasMaxLength(200);
        builder.Property(m => m.AgentVersion).HasMaxLength(64);
        builder.Property(m => m.RepositoryId).HasMaxLength(64);
        builder.Property(m => m.RegisteredBy).HasMaxLength(256);
        builder.Property(m => m.RevokedBy).HasMaxLength(256);
        builder.Property(m => m.ConnectedTo).HasMaxLength(200);
        builder.HasIndex(m => new { m.VaultId, m.NormalizedName }).IsUnique().HasFilter("\"RevokedAt\" IS NULL");
        builder.Property(m => m.Version).IsRowVersion();
        builder.Ignore(m => m.IsRevoked);
    }
}

internal sealed class MachineCredentialConfiguration : IEntityTypeConfiguration<MachineCredential>
{
    public void Configure(EntityTypeBuilder<MachineCredential> builder)
    {
        builder.ToTable("machine_credentials");
        builder.HasKey(c => c.Id);
        builder.HasOne<Vault>().WithMany().HasForeignKey(c => c.VaultId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(c => c.CreatedBy).HasMaxLength(256);
        builder.Property(c => c.RevokedBy).HasMaxLength(256);
        builder.HasIndex(c => new { c.VaultId, c.CreatedAt });
        builder.Property(c => c.Version).IsRowVersion();
    }
}

internal sealed class VaultEscrowKeyConfiguration : IEntityTypeConfiguration<VaultEscrowKey>
{
    public void Configure(EntityTypeBuilder<VaultEscrowKey> builder)
    {
        builder.ToTable("vault_escrow_keys");
        builder.HasKey(k => k.VaultId);
        builder.HasOne<Vault>().WithMany().HasForeignKey(k => k.VaultId).OnDelete(DeleteBehavior.Cascade);
    }
}
