namespace Portal.Components.Pages.Items;

/// <summary>The text file a user keeps with a vault's passphrase, saved in the browser only.</summary>
public static class RecoveryNote
{
    public static string FileName(string vault, DateTime utc) => $"recovery-note-{vault}-{utc:yyyy-MM-dd}.txt";

    public static string Text(string vault, DateTime utc, string passphrase) =>
        $"""
        Backup portal: recovery note for vault {vault}
        Written {utc:yyyy-MM-dd HH:mm} UTC

        Vault passphrase:
        {passphrase}

        Keep this note offline and safe, like the key to a safe. The passphrase encrypts the backup data of
        vault {vault}. Neither the portal nor its database keeps it, so it cannot be recovered or reset:
        without it that backup data cannot be read.

        This portal host keeps the vault's key sealed, so scheduled backups run without the passphrase. You
        need the passphrase to:
          - restore with the command-line tool (Portal.Cli) on another machine, for example after a disaster;
          - connect another or a rebuilt portal host to this vault (its key ring does not have the vault's key).
        """;
}
