namespace Portal.Features.Verification;

/// <summary>
/// A vault's verification schedule: every night its repositories' structure is checked and the next share of their packs
/// is read and verified, so that every pack is read once per <see cref="PeriodDays"/>, within
/// <see cref="NightlyReadBudgetBytes"/> a night. A vault without a row has the defaults.
/// </summary>
public sealed class VaultVerification
{
    public const int DefaultPeriodDays = 30;
    public const long DefaultNightlyReadBudgetBytes = 50L << 30;

    public Guid VaultId { get; set; }
    public bool Enabled { get; set; } = true;
    public int PeriodDays { get; set; } = DefaultPeriodDays;
    public long NightlyReadBudgetBytes { get; set; } = DefaultNightlyReadBudgetBytes;
    public DateTime? ChangedAt { get; set; }
    public string? ChangedBy { get; set; }
}

/// <summary>Where the reading of one repository of a vault stands (the portal host's, or a machine's).</summary>
public sealed class RepositoryVerification
{
    /// <summary>The portal host's repository.</summary>
    public const string HostRepository = "host";

    public Guid VaultId { get; set; }

    /// <summary><see cref="HostRepository"/>, or the machine's id.</summary>
    public string Repository { get; set; } = HostRepository;

    /// <summary>The last pack read in the pass under way; null before a pass starts.</summary>
    public string? Cursor { get; set; }
    public DateTime? PassStartedAt { get; set; }
    public long PassBytesRead { get; set; }

    /// <summary>The last complete pass: every pack read and verified between these times.</summary>
    public DateTime? LastPassStartedAt { get; set; }
    public DateTime? LastPassCompletedAt { get; set; }

    public DateTime? LastCheckedAt { get; set; }
    public Guid? LastJobId { get; set; }
    public int LastProblems { get; set; }
    public int PacksTotal { get; set; }
    public long BytesTotal { get; set; }
}
