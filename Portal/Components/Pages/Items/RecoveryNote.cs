namespace Portal.Components.Pages.Items;

/// <summary>The text file a user keeps with a vault's passphrase, saved in the browser only.</summary>
public static class RecoveryNote
{
    /// <summary>A region holding the vault's repository: its name, "primary" or "secondary (GRS copy)", and the repository in each of its replicas.</summary>
    public sealed record RegionCopy(string Region, string Role, IReadOnlyList<string> Repositories);

    public static string FileName(string vault, DateTime utc) => $"recovery-note-{vault}-{utc:yyyy-MM-dd}.txt";

    public static string Text(string vault, Guid vaultId, DateTime utc, string passphrase, IReadOnlyList<RegionCopy> regions)
    {
        var copies = string.Join("\n", regions.Select(r =>
            $"  Region {r.Region} ({r.Role}):\n" + string.Join("\n", r.Repositories.Select(p => $"    {p}"))));
        var primary = regions.FirstOrDefault()?.Region ?? "REGION";
        var firstFolder = regions.SelectMany(r => r.Repositories).FirstOrDefault(p => p.StartsWith('/')) ?? "/path/to/the/repository";
        return $"""
        Backup portal: recovery note for vault {vault}
        Written {utc:yyyy-MM-dd HH:mm} UTC

        Vault ID: {vaultId}

        Vault passphrase:
        {passphrase}

        Where the vault's backup data lies (one repository per replica; each copy is complete):
        {copies}

        Keep this note offline and safe, like the key to a safe. The passphrase encrypts the backup data of
        vault {vault}. Neither the portal nor its database keeps it, so it cannot be recovered or reset:
        without it that backup data cannot be read.

        This portal host keeps the vault's key sealed, so scheduled backups run without the passphrase. You
        need the passphrase to:
          - restore with the command-line tool (Portal.Cli) on another machine, for example after a disaster:
              export PORTAL_PASSPHRASE='the passphrase above'
              dotnet Portal.Cli.dll snapshots --repo {firstFolder}
              dotnet Portal.Cli.dll restore --repo {firstFolder} --snapshot latest --target /srv/restored
            or, with the portal's appsettings.json at hand:
              dotnet Portal.Cli.dll snapshots --config appsettings.json --vault {vaultId} --vault-region {primary}
          - connect another or a rebuilt portal host to this vault (its key ring does not have the vault's key).
        """;
    }
}
