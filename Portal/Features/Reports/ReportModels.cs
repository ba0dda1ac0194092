using Portal.Features.Jobs;
using Portal.Features.Regions;
using Portal.Features.Vaults;

namespace Portal.Features.Reports;

/// <summary>A range of whole UTC days, both ends included (so today counts, unlike Azure's reports).</summary>
public sealed record ReportRange(DateOnly From, DateOnly To)
{
    public const int MaxDays = 366;

    public int Days => To.DayNumber - From.DayNumber + 1;
    public DateTime StartUtc => From.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
    public DateTime EndUtc => To.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
    public IEnumerable<DateOnly> EachDay() => Enumerable.Range(0, Days).Select(From.AddDays);

    /// <summary>The last <paramref name="days"/> days up to and including today.</summary>
    public static ReportRange Last(int days, DateTime nowUtc)
    {
        var today = DateOnly.FromDateTime(nowUtc);
        return new(today.AddDays(1 - days), today);
    }

    /// <summary>Null when the range is usable, else what is wrong.</summary>
    public string? Problem() =>
        From > To ? "The start date is after the end date: pick a start on or before the end."
        : Days > MaxDays ? $"A report covers at most {MaxDays} days: narrow the dates."
        : null;
}

/// <summary>Jobs of one kind started on one day, by outcome.</summary>
public sealed record JobDayRow(DateOnly Day, JobKind Kind, int Total, int Completed, int CompletedWithWarnings, int Failed, int Cancelled, int Running)
{
    /// <summary>Finished jobs that succeeded (with or without warnings), as a fraction; null when none finished.</summary>
    public double? SuccessRate => Completed + CompletedWithWarnings + Failed is var done and > 0 ? (Completed + CompletedWithWarnings) / (double)done : null;
}

/// <summary>Data moved on one day: scanned and added to vaults by backups, written by restores.</summary>
public sealed record TransferDayRow(DateOnly Day, long BackedUpBytes, long AddedToVaultBytes, long RestoredBytes);

/// <summary>A vault's storage in one region at the end of one day (the last measurement on or before that day).</summary>
public sealed record StorageDayRow(DateOnly Day, Guid VaultId, string Vault, string Region, long Bytes);

/// <summary>One item's recovery points made on one day: how much data they protect and what they added to the vault.</summary>
public sealed record ItemStorageDayRow(DateOnly Day, Guid ItemId, string Item, string Vault, int RecoveryPoints, long ProtectedBytes, long AddedBytes);

/// <summary>One item over a range: its recovery points made in it, the most data one of them protects, and what they added to the vault.</summary>
public sealed record ItemStorageRow(Guid ItemId, string Item, string Vault, int RecoveryPoints, long ProtectedBytes, long AddedBytes);

/// <summary>How many items each policy protects; <see cref="NotBackedUpYet"/> of the protected ones have no recovery point yet.</summary>
public sealed record PolicyItemsRow(string Vault, string Policy, int Protected, int ProtectionStopped, int SoftDeleted, int NotBackedUpYet = 0);
