namespace Portal.Features.Common;

/// <summary>One page of a server-side paged list and the total it was cut from.</summary>
public sealed record PagedResult<T>(IReadOnlyList<T> Items, int TotalCount);

public enum SortDirection
{
    Ascending,
    Descending,
}
