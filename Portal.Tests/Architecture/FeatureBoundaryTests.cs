using System.Text.RegularExpressions;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Architecture;

/// <summary>
/// The portal's feature folders (<c>Portal/Features/&lt;Feature&gt;</c>) are vertical slices whose dependencies can be
/// read from their files: no global import of a feature namespace, no cycle between features, and no feature reaching
/// into the UI (<c>Portal.Components</c>). A dependency is a use of a type that another feature declares.
/// </summary>
public sealed partial class FeatureBoundaryTests
{
    private static readonly string Features = Path.Combine(Checkout.Root(), "Portal", "Features");

    [Fact]
    public void No_file_imports_a_feature_namespace_for_the_whole_project()
    {
        var global = Directory.EnumerateFiles(Path.Combine(Checkout.Root(), "Portal"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            .SelectMany(f => File.ReadLines(f).Where(l => GlobalFeatureUsing().IsMatch(l)).Select(l => $"{Relative(f)}: {l.Trim()}"))
            .ToList();
        Assert.True(global.Count == 0, "Global imports hide which features a file depends on:\n" + string.Join("\n", global));
    }

    [Fact]
    public void Features_never_reach_into_the_components()
    {
        var uses = SourceFiles().Where(f => f.Text.Contains("Portal.Components", StringComparison.Ordinal)).Select(f => Relative(f.Path)).ToList();
        Assert.True(uses.Count == 0, "Features must not depend on Portal.Components (the UI depends on features, not the other way):\n" + string.Join("\n", uses));
    }

    [Fact]
    public void No_cycle_between_feature_folders()
    {
        var graph = Dependencies();
        var cycles = Cycles(graph.ToDictionary(g => g.Key, g => (IReadOnlyCollection<string>)g.Value.Keys));
        Assert.True(cycles.Count == 0, "Feature folders depend on each other in a cycle:\n" + string.Join("\n", cycles.Select(c =>
            string.Join(" → ", c) + "\n  " + string.Join("\n  ", c.Zip(c.Skip(1)).Select(e => $"{e.First} → {e.Second}: {graph[e.First][e.Second]}")))));
    }

    private sealed record Source(string Feature, string Path, string Text);

    private static List<Source> SourceFiles() =>
        [.. Directory.EnumerateDirectories(Features).SelectMany(dir => Directory.EnumerateFiles(dir, "*.cs", SearchOption.AllDirectories)
            .Select(f => new Source(System.IO.Path.GetFileName(dir), f, Code(File.ReadAllText(f)))))];

    /// <summary>feature → (feature it uses → one example "file: Type").</summary>
    private static Dictionary<string, Dictionary<string, string>> Dependencies()
    {
        var files = SourceFiles();
        var owner = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in files)
            foreach (Match m in Declaration().Matches(file.Text))
                owner.TryAdd(m.Groups[1].Value, file.Feature);
        var graph = files.Select(f => f.Feature).Distinct().ToDictionary(f => f, _ => new Dictionary<string, string>());
        foreach (var file in files)
            foreach (var name in TypeNames(file.Text))
                if (owner.TryGetValue(name, out var other) && other != file.Feature)
                    graph[file.Feature].TryAdd(other, $"{Relative(file.Path)} uses {name}");
        return graph;
    }

    /// <summary>
    /// The names in <paramref name="code"/> that can be types: every segment of a dotted chain that starts with a capital
    /// (<c>Vaults.Vault</c>, <c>JobStatus.Completed</c>), except a method called at its end; nothing of a chain that starts
    /// at a variable (<c>item.Vault.Region</c> is member access).
    /// </summary>
    private static IEnumerable<string> TypeNames(string code)
    {
        foreach (Match chain in Chain().Matches(code))
        {
            var segments = chain.Groups["segment"].Captures.Select(c => c.Value).ToList();
            if (!char.IsUpper(segments[0][0]))
                continue;
            var call = code.AsSpan(chain.Index + chain.Length).TrimStart().StartsWith("(") && !code.AsSpan(0, chain.Index).TrimEnd().EndsWith("new");
            foreach (var segment in call ? segments[..^1] : segments)
                yield return segment;
        }
    }

    /// <summary>Each cycle once, as a path that ends where it starts.</summary>
    internal static List<List<string>> Cycles(IReadOnlyDictionary<string, IReadOnlyCollection<string>> graph)
    {
        var cycles = new List<List<string>>();
        var seen = new HashSet<string>();
        foreach (var start in graph.Keys.Order())
        {
            var path = new List<string> { start };
            Walk(start);
            void Walk(string node)
            {
                foreach (var next in graph.GetValueOrDefault(node, []).Order())
                {
                    if (next == start)
                    {
                        var cycle = path.Append(start).ToList();
                        if (seen.Add(string.Join(",", cycle.Skip(1).Order())))
                            cycles.Add(cycle);
                    }
                    else if (!path.Contains(next) && string.CompareOrdinal(next, start) > 0)
                    {
                        path.Add(next);
                        Walk(next);
                        path.RemoveAt(path.Count - 1);
                    }
                }
            }
        }

        return cycles;
    }

    /// <summary>The code without comments and string literals (a type named in a sentence is no dependency).</summary>
    private static string Code(string text) => Noise().Replace(text, " ");

    private static string Relative(string path) => System.IO.Path.GetRelativePath(Checkout.Root(), path);

    [GeneratedRegex(@"^\s*global\s+using\s+Portal\.Features\.")]
    private static partial Regex GlobalFeatureUsing();

    /// <summary>A type a feature declares for others: at the top of a file (not nested), public or internal.</summary>
    [GeneratedRegex(@"^(?:public|internal)\s+(?:(?:sealed|static|abstract|partial|readonly)\s+)*(?:class|record|enum|interface|struct)\s+(?:struct\s+|class\s+)?([A-Z]\w*)", RegexOptions.Multiline)]
    private static partial Regex Declaration();

    [GeneratedRegex(@"(?<![\w.])(?<segment>[A-Za-z_]\w*)(?:\s*[!?]?\.\s*(?<segment>[A-Za-z_]\w*))*")]
    private static partial Regex Chain();

    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/|@?\$?""""""[\s\S]*?""""""|@?\$?""(?:[^""\\\n]|\\.)*""", RegexOptions.Singleline)]
    private static partial Regex Noise();
}
