using Microsoft.EntityFrameworkCore;
using Portal.Features.Protection;
using Portal.Features.Vaults;

namespace Portal.Data;

public sealed class PortalDbContext(DbContextOptions<PortalDbContext> options) : DbContext(options)
{
    public DbSet<Vault> Vaults => Set<Vault>();
    public DbSet<BackupItem> BackupItems => Set<BackupItem>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(PortalDbContext).Assembly);
}
