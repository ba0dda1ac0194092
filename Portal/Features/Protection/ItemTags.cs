using System.Globalization;

namespace Portal.Features.Protection;

/// <summary>
/// The tags a backup writes into its snapshot: which item it is (<c>item:</c>, <c>name:</c>, <c>kind:</c>, <c>source:</c>,
/// <c>machine:</c>, <c>policy:</c>), scheduled or on demand (and <c>retain-until:</c> for on-demand points), and the job.
/// The snapshot then says on its own whose recovery point it is: the catalog can be rebuilt from storage alone.
/// Additive: snapshots written before carry only <c>item:</c>, the type and the job.
/// </summary>
public static class ItemTags
{
    public const string Item = "item:", Name = "name:", Kind = "kind:", Source = "source:", OnMachine = "machine:", Policy = "policy:",
        RetainUntil = "retain-until:", Consistency = "consistency:", OnDemand = "on-demand", Scheduled = "scheduled";

    /// <summary>The tags of a backup of <paramref name="item"/> (with its policy loaded, when it has one) by job <paramref name="jobId"/>.</summary>
    public static string[] For(BackupItem item, BackupInput input, Guid jobId, RecoveryPointConsistency? consistency = null)
    {
        var tags = new List<string>
        {
            $"{Item}{item.Id:N}", input.Type == RecoveryPointType.OnDemand ? OnDemand : Scheduled, BackupJob.JobTag(jobId),
            Name + item.Name, Kind + item.Kind, Source + item.SourcePath,
        };
        if (item.MachineId is { } machine)
            tags.Add($"{OnMachine}{machine:N}");
        if (item.Policy is { } policy)
            tags.Add(Policy + policy.Name);
        if (input.RetainUntil is { } until)
            tags.Add(RetainUntil + until.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
        if (consistency is { } c)
            tags.Add(Consistency + c);
        return [.. tags];
    }

    /// <summary>The value of the first tag that starts with <paramref name="prefix"/>, or null.</summary>
    public static string? Value(IEnumerable<string> tags, string prefix) =>
        tags.FirstOrDefault(t => t.StartsWith(prefix, StringComparison.Ordinal))?[prefix.Length..];

    /// <summary>The item id a snapshot's tags name, or null when they name none.</summary>
    public static Guid? ItemId(IEnumerable<string> tags) =>
        Value(tags, Item) is { } id && Guid.TryParseExact(id, "N", out var g) ? g : null;
}
