using Portal.Data;
using Portal.Engine.Retention;

namespace Portal.Features.Policies;

/// <summary>
/// The recovery points of the items a policy protects, for the retention preview. Policies sit below protection, so
/// they ask through this interface and Protection, which owns the items and their points, answers.
/// </summary>
public interface IPolicyItems
{
    /// <summary>Per item the policy protects (not soft-deleted), by name: its recovery points.</summary>
    Task<IReadOnlyList<PolicyItemPoints>> RecoveryPointsAsync(PortalDbContext db, Guid policyId, CancellationToken ct);
}

public sealed record PolicyItemPoints(string Item, IReadOnlyList<RecoveryPointRef> Points);
