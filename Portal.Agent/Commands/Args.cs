namespace Portal.Agent.Commands;

/// <summary>Hand-written parsing, as the CLI's: "--name value", "--name=value", "--flag".</summary>
internal sealed class Args
{
    private static readonly HashSet<string> Flags = ["--help", "-h", "--yes", "--local-only"];
    private readonly Dictionary<string, List<string>> options = new(StringComparer.Ordinal);
    private readonly HashSet<string> used = new(StringComparer.Ordinal);
    private readonly List<string> positional = [];

    /// <summary>Parses the words after the command.</summary>
    public Args(string[] argv)
    {
        for (var i = 0; i < argv.Length; i++)
        {
            var a = argv[i];
            if (a.StartsWith("--", StringComparison.Ordinal) || a == "-h")
            {
                var eq = a.IndexOf('=');
                if (eq > 0 && Flags.Contains(a[..eq])) throw new UsageException($"option {a[..eq]} takes no value (write {a[..eq]} alone)");
                if (eq > 0) Add(a[..eq], a[(eq + 1)..]);
                else if (Flags.Contains(a)) Add(a, "true");
                else if (i + 1 < argv.Length) Add(a, argv[++i]);
                else throw new UsageException($"option {a} needs a value");
            }
            else positional.Add(a);
        }
    }

    private void Add(string name, string value)
    {
        if (!options.TryGetValue(name, out var list)) options[name] = list = [];
        list.Add(value);
    }

    /// <summary>The option's last value, or null.</summary>
    public string? Get(string name)
    {
        used.Add(name);
        return options.TryGetValue(name, out var l) ? l[^1] : null;
    }

    /// <summary>Every value of a repeatable option, in order (none: empty).</summary>
    public IReadOnlyList<string> GetAll(string name)
    {
        used.Add(name);
        return options.TryGetValue(name, out var l) ? l : [];
    }

    /// <summary>Whether a flag is given.</summary>
    public bool Flag(string name) => Get(name) is not null;

    /// <summary>Whether help is asked for.</summary>
    public bool Help => Flag("--help") || Flag("-h");

    /// <summary>Refuses options the command did not read and any positional word (a typo must not be silently ignored).</summary>
    public void EnsureAllUsed()
    {
        if (positional.Count > 0) throw new UsageException($"unexpected argument '{positional[0]}'");
        var unknown = options.Keys.Where(k => !used.Contains(k)).ToList();
        if (unknown.Count > 0) throw new UsageException($"unknown option {unknown[0]}");
    }
}
