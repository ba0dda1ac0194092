using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Features.Protection;

namespace Portal.Data.Configurations;

internal sealed class BackupItemConfiguration : IEntityTypeConfiguration<BackupItem>
{
    public void Configure(EntityTypeBuilder<BackupItem> builder)
    {
        builder.ToTable("backup_items");
        builder.HasKey(i => i.Id);
        builder.Property(i => i.Name).HasMaxLength(256).IsRequired();
        builder.Property(i => i.Kind).HasMaxLength(64).IsRequired();
        builder.Property(i => i.State).HasConversion<string>().HasMaxLength(32);
        builder.Property(i => i.Version).IsRowVersion();
        builder.HasIndex(i => new { i.VaultId, i.Name }).IsUnique();
    }
}
