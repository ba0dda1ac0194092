using System.Text;

namespace Portal.Features.Common;

/// <summary>
/// An enum value as people read it: "InProgress" is "In progress", "OnDemand" is "On demand". The one way the portal shows
/// a state, kind or type that is a C# enum, so no page prints a raw enum name.
/// </summary>
public static class EnumWords
{
    public static string Words<T>(this T value) where T : struct, Enum => Split(value.ToString());

    /// <summary>"CompletedWithWarnings" → "Completed with warnings"; a run of capitals stays as it is ("ReadFromGRS" → "Read from GRS").</summary>
    public static string Split(string name)
    {
        var words = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (i > 0 && char.IsUpper(c) && char.IsLower(name[i - 1]))
            {
                var acronym = i + 1 < name.Length && char.IsUpper(name[i + 1]);
                words.Append(' ').Append(acronym ? c : char.ToLowerInvariant(c));
            }
            else
            {
                words.Append(c);
            }
        }

        return words.ToString();
    }
}
