namespace Portal.Features.Common;

/// <summary>Escapes user text for a PostgreSQL LIKE/ILIKE pattern with <c>\</c> as the escape character.</summary>
public static class Like
{
    public static string Escape(string text) => text.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");
}
