namespace Portal.Features.Identity;

/// <summary>The portal's roles: Entra app role values, used unchanged in code, policies and the UI.</summary>
public static class PortalRoles
{
    /// <summary>Everything: vaults, policies, protection, stop protection with delete, settings.</summary>
    public const string Contributor = "Backup.Contributor";

    /// <summary>Protect items, back up now, restore, view; no policy changes, no deletion of backup data or vaults.</summary>
    public const string Operator = "Backup.Operator";

    /// <summary>View everything; change nothing.</summary>
    public const string Reader = "Backup.Reader";

    /// <summary>Help-desk: view items and recovery points, restore to an alternate location or as copies.</summary>
    public const string RestoreOperator = "Restore.Operator";

    public static readonly IReadOnlyList<string> All = [Contributor, Operator, Reader, RestoreOperator];
}

/// <summary>Authorization policy names used by pages and endpoints.</summary>
public static class PortalPolicies
{
    /// <summary>Any portal role: may open the portal's pages.</summary>
    public const string View = "Portal.View";

    /// <summary>Create, change and delete vaults; approve critical operations.</summary>
    public const string ManageVaults = "Portal.ManageVaults";

    /// <summary>Read and export the audit log.</summary>
    public const string ReadAudit = "Portal.ReadAudit";

    /// <summary>Protect items, back up now, stop and resume protection, undelete, cancel jobs (Contributor or Operator).</summary>
    public const string Protect = "Portal.Protect";
}
