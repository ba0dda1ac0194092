using Portal.Features.Common;
using Portal.Features.Protection;

namespace Portal.Features.Workloads;

/// <summary>The checks of a database item's settings and a folder item's scripts when protection is configured.</summary>
internal static class WorkloadChecks
{
    /// <summary>Adds each broken rule to <paramref name="errors"/>; returns the item's source name (what is backed up, without the password).</summary>
    public static string Validate(DatabaseSettings database, ScriptSettings? scripts, Dictionary<string, string> errors)
    {
        if (WorkloadRules.CheckHost(database.Host) is { } host) errors["DatabaseHost"] = host;
        if (WorkloadRules.CheckPort(database.Port) is { } port) errors["DatabasePort"] = port;
        if (WorkloadRules.CheckDatabaseName(database.Database?.Trim()) is { } name) errors["DatabaseName"] = name;
        if (WorkloadRules.CheckUser(database.User) is { } user) errors["DatabaseUser"] = user;
        if (scripts is not null && (!string.IsNullOrWhiteSpace(scripts.PreScript) || !string.IsNullOrWhiteSpace(scripts.PostScript)))
            errors["PreScript"] = "Pre- and post-backup scripts are for files and folders: a database backup is application-consistent by itself.";
        return errors.Count > 0 ? "" : Target(database).SourceName;
    }

    /// <summary>Signs in to the database once: wrong credentials or an unreachable server are a validation error on the host, and nothing is saved.</summary>
    public static async Task CheckReachableAsync(DatabaseSettings database, CancellationToken ct)
    {
        try
        {
            await PostgreSqlTools.ServerMajorAsync(Target(database), ct);
        }
        catch (PortalConflictException e)
        {
            throw new PortalValidationException("DatabaseHost", e.Message + " Nothing was saved.");
        }
    }

    private static DatabaseTarget Target(DatabaseSettings d) => new(d.Host.Trim(), d.Port ?? 5432, d.Database.Trim(), d.User.Trim(), d.Password ?? "");
}
