using Portal.Features.Regions;

namespace Portal.Features.Reports;

/// <summary>
/// What a vault's repository occupied in one region on one day (UTC): the last measurement of that day. One row per
/// vault, region and day keeps "storage over time" cheap to chart and report for years. Written by the Backup center's
/// storage meter, read by the reports.
/// </summary>
public sealed class StorageUsage
{
    public Guid VaultId { get; set; }
    public string Region { get; set; } = "";
    public DateOnly Day { get; set; }
    public long Bytes { get; set; }
    public long Objects { get; set; }
    public DateTime MeasuredAt { get; set; }
}
