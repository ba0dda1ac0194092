using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Features.Alerts;

namespace Portal.Data.Configurations;

internal sealed class AlertRecipientSettingsConfiguration : IEntityTypeConfiguration<AlertRecipientSettings>
{
    public void Configure(EntityTypeBuilder<AlertRecipientSettings> builder)
    {
        builder.ToTable("alert_recipients");
        builder.HasKey(s => s.Id);
        builder.Property(s => s.Id).ValueGeneratedNever();
        builder.Property(s => s.UpdatedBy).HasMaxLength(256);
        builder.Property(s => s.Version).IsRowVersion();
    }
}
