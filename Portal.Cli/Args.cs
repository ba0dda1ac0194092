namespace Portal.Cli;

/// <summary>A wrong command line: printed as one line, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>Hand-written parsing: "--name value", "--flag", and positional words.</summary>
internal sealed class Args
{
    private static readonly HashSet<string> Flags = ["--json", "--read-data", "--in-place", "--sparse", "--resume", "--help", "-h", "--quiet", "--progress-lines", "--force"];
    private readonly Dictionary<string, List<string>> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _usedOptions = new(StringComparer.Ordinal);

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
            else Positional.Add(a);
        }
    }

    public List<string> Positional { get; } = [];

    private void Add(string name, string value)
    {
        if (!_options.TryGetValue(name, out var list)) _options[name] = list = [];
        list.Add(value);
    }

    public string? Get(string name)
    {
        _usedOptions.Add(name);
        return _options.TryGetValue(name, out var l) ? l[^1] : null;
    }

    public string Require(string name) => Get(name) ?? throw new UsageException($"missing {name}");

    public IReadOnlyList<string> All(string name)
    {
        _usedOptions.Add(name);
        return _options.TryGetValue(name, out var l) ? l : [];
    }

    public bool Flag(string name) => Get(name) is not null;

    /// <summary>Refuses options the command did not read (a typo must not be silently ignored).</summary>
    public void EnsureAllUsed()
    {
        var unknown = _options.Keys.Where(k => !_usedOptions.Contains(k)).ToList();
        if (unknown.Count > 0) throw new UsageException($"unknown option {unknown[0]}");
    }
}
