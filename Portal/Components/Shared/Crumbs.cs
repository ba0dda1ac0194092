namespace Portal.Components.Shared;

/// <summary>Breadcrumb texts and links shared by pages.</summary>
public static class Crumbs
{
    public const string BackupCenter = "Backup center";
    public const string BackupCenterHref = "";
    public const string Vaults = "Vaults";
    public const string VaultsHref = "vaults";
    public const string Jobs = "Backup jobs";
    public const string JobsHref = "jobs";
    public const string Items = "Backup items";
    public const string ItemsHref = "items";
}
