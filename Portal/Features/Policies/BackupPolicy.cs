using System.Text.Json;
using Portal.Engine.Retention;

namespace Portal.Features.Policies;

/// <summary>A vault's backup policy: when backups run and how long recovery points are kept (Azure's model).</summary>
public sealed class BackupPolicy
{
    public Guid Id { get; set; }
    public Guid VaultId { get; set; }
    public string Name { get; set; } = "";
    public string NormalizedName { get; set; } = "";

    /// <summary>The schedule and retention as JSON (<see cref="PolicyDefinition"/>).</summary>
    public string Definition { get; set; } = "";

    public DateTime CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTime UpdatedAt { get; set; }
    public string UpdatedBy { get; set; } = "";
    public uint Version { get; set; }
}

/// <summary>What a policy says: its schedule and its retention tiers.</summary>
public sealed record PolicyDefinition(BackupSchedule Schedule, RetentionPolicy Retention)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Azure's DefaultPolicy: daily at 22:30 UTC, daily points kept 30 days.</summary>
    public static PolicyDefinition Default => new(
        new BackupSchedule(ScheduleFrequency.Daily, [], [new TimeOnly(22, 30)], "UTC"),
        new RetentionPolicy(DailyDays: 30));

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static PolicyDefinition FromJson(string json) =>
        JsonSerializer.Deserialize<PolicyDefinition>(json, Json) ?? throw new InvalidDataException("Empty policy definition.");
}

/// <summary>A policy as pages show it.</summary>
public sealed record PolicyDetails(Guid Id, Guid VaultId, string Name, PolicyDefinition Definition, DateTime UpdatedAt, string UpdatedBy, uint Version);

/// <summary>The result of saving a policy: the policy, and whether a retention reduction waits for a second approver.</summary>
public sealed record PolicyUpdateResult(PolicyDetails Policy, bool ApprovalRequested);

/// <summary>
/// What a policy change would do to existing recovery points, per protected item, and whether saving it waits for a
/// second approver (<paramref name="NeedsApproval"/>: decided by the same rule as the save).
/// </summary>
public sealed record RetentionPreview(IReadOnlyList<ItemRetentionPreview> Items, bool NeedsApproval = false)
{
    public int Removed => Items.Sum(i => i.Removed.Count);
}

/// <summary>One item's points under a proposed policy: how many stay and which the next retention run would remove (UTC).</summary>
public sealed record ItemRetentionPreview(string ItemName, int Kept, IReadOnlyList<DateTime> Removed);
