namespace Portal.Features.Drills;

/// <summary>
/// When a policy's items, or one item, are drilled, how much of the latest recovery point each drill restores, and the
/// full restore time promised (the RTO target). A policy's schedule applies to its items; an item's own row overrides
/// its policy's whole (including "off"). No row: no drills, which is where every new item starts.
/// </summary>
public sealed class DrillSchedule
{
    public Guid Id { get; set; }

    /// <summary>Exactly one of <see cref="PolicyId"/> and <see cref="ItemId"/> is set.</summary>
    public Guid? PolicyId { get; set; }
    public Guid? ItemId { get; set; }

    public DrillFrequency Frequency { get; set; } = DrillFrequency.Weekly;

    /// <summary>The weekday of a weekly drill.</summary>
    public DayOfWeek Day { get; set; } = DayOfWeek.Sunday;

    /// <summary>The day (1-28) of a monthly drill.</summary>
    public int DayOfMonth { get; set; } = 1;

    /// <summary>The time of day (UTC) the drill starts.</summary>
    public TimeOnly TimeUtc { get; set; } = new(3, 0);

    public DrillSampleKind Sample { get; set; } = DrillSampleKind.Whole;

    /// <summary>How many files (<see cref="DrillSampleKind.Files"/>) or bytes (<see cref="DrillSampleKind.Bytes"/>) a sampled drill restores.</summary>
    public long SampleSize { get; set; }

    /// <summary>The longest full restore the owner accepts (RTO target), in minutes; null: none set.</summary>
    public int? RtoTargetMinutes { get; set; }

    public DateTime UpdatedAt { get; set; }
    public string UpdatedBy { get; set; } = "";
}

public enum DrillFrequency
{
    Off,
    Daily,
    Weekly,
    Monthly,
}

public enum DrillSampleKind
{
    /// <summary>The whole recovery point.</summary>
    Whole,

    /// <summary>N files chosen at random (rotating, so every file is drilled over time).</summary>
    Files,

    /// <summary>Files chosen at random until X bytes.</summary>
    Bytes,
}
