using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Features.Approvals;

namespace Portal.Data.Configurations;

internal sealed class ApprovalRequestConfiguration : IEntityTypeConfiguration<ApprovalRequest>
{
    public void Configure(EntityTypeBuilder<ApprovalRequest> builder)
    {
        builder.ToTable("approval_requests");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Operation).HasMaxLength(64);
        builder.Property(r => r.Resource).HasMaxLength(300);
        builder.Property(r => r.Summary).HasMaxLength(1000);
        builder.Property(r => r.RequestedByObjectId).HasMaxLength(128);
        builder.Property(r => r.RequestedByName).HasMaxLength(256);
        builder.Property(r => r.DecidedByObjectId).HasMaxLength(128);
        builder.Property(r => r.DecidedByName).HasMaxLength(256);
        builder.Property(r => r.Payload).HasColumnType("jsonb");
        builder.Property(r => r.Status).HasConversion<string>().HasMaxLength(16);
        builder.Property(r => r.Version).IsRowVersion();
        builder.HasIndex(r => new { r.ResourceId, r.Operation, r.Status });
    }
}
