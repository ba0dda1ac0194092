namespace Portal.Components.Shared;

/// <summary>How numbers and times read in the portal.</summary>
public static class Format
{
    /// <summary>"—" when unknown (a panel a later feature fills shows nothing rather than an invented number).</summary>
    public static string Bytes(long? bytes)
    {
        if (bytes is null)
            return "—";
        string[] units = ["B", "KB", "MB", "GB", "TB", "PB"];
        double value = bytes.Value;
        var unit = 0;
        while (value >= 1000 && unit < units.Length - 1)
        {
            value /= 1000;
            unit++;
        }

        return unit == 0 ? $"{bytes} B" : $"{value:0.#} {units[unit]}";
    }

    public static string Utc(DateTime utc) => $"{utc:yyyy-MM-dd HH:mm} UTC";
}

/// <summary>Breadcrumb texts and links shared by pages.</summary>
public static class Crumbs
{
    public const string BackupCenter = "Backup center";
    public const string BackupCenterHref = "";
    public const string Vaults = "Vaults";
    public const string VaultsHref = "vaults";
    public const string Jobs = "Backup jobs";
    public const string JobsHref = "jobs";
}
