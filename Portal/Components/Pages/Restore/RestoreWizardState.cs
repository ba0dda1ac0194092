using System.Text.Json.Serialization;
using Portal.Features.Protection;
using Portal.Features.Restore;

namespace Portal.Components.Pages.Restore;

/// <summary>The restore wizard's steps, in order (the stepper's indexes).</summary>
public enum RestoreWizardStep
{
    Item,
    Point,
    Files,
    Destination,
    Review,
    Result,
}

/// <summary>
/// What the restore wizard has chosen so far. The chosen ids are saved in the browser's session storage (protected), so
/// a reload resumes where the user was; what was loaded for them (the item, its points, the plan) is not saved and is
/// loaded again. Choosing something again clears what was chosen after it.
/// </summary>
public sealed class RestoreWizardState
{
    /// <summary>The session storage key.</summary>
    public const string StorageKey = "restore-wizard";

    public RestoreWizardStep Step { get; set; }
    public Guid? ItemId { get; set; }
    public Guid? PointId { get; set; }
    public string? Region { get; set; }

    /// <summary>The folder of the point shown in the Files step (null: the item's folder).</summary>
    public string? Path { get; set; }

    public List<string> Selected { get; set; } = [];
    public RestoreDestination Destination { get; set; } = RestoreDestination.OriginalLocation;
    public string? AlternatePath { get; set; }
    public RestoreConflictOption Conflict { get; set; } = RestoreConflictOption.CreateCopy;
    public bool Sparse { get; set; }
    public Guid? TargetMachineId { get; set; }
    public Guid? JobId { get; set; }

    /// <summary>The chosen item (loaded, not saved).</summary>
    [JsonIgnore] public ItemSummary? Item { get; private set; }

    /// <summary>The item's recovery points, newest first (loaded, not saved).</summary>
    [JsonIgnore] public IReadOnlyList<RestorePoint> Points { get; private set; } = [];

    /// <summary>The chosen recovery point (loaded, not saved).</summary>
    [JsonIgnore] public RestorePoint? Point { get; private set; }

    /// <summary>Paths of the chosen point added or changed since the item's previous point; null until loaded or for the first point.</summary>
    [JsonIgnore] public IReadOnlySet<string>? Changed { get; set; }

    /// <summary>The checked plan of the restore, shown in the Review step; null when a choice changed since.</summary>
    [JsonIgnore] public RestorePlan? Plan { get; set; }

    /// <summary>Field errors of the last plan or start, by field of <see cref="FileRestoreRequest"/> ("Destination" for the choice).</summary>
    [JsonIgnore] public Dictionary<string, string> Errors { get; set; } = [];

    /// <summary>A machine's item restored onto another machine (which has no "original location" of its files).</summary>
    [JsonIgnore] public bool OnOtherMachine => Item?.MachineId is { } own && TargetMachineId is { } target && target != own;

    /// <summary>Chooses the item to restore from: forgets the point, files and destination chosen for another one.</summary>
    public void ChooseItem(ItemSummary item, IReadOnlyList<RestorePoint> points)
    {
        Item = item;
        Points = [.. points.OrderByDescending(p => p.CreatedAt)];
        ItemId = item.Id;
        TargetMachineId = item.MachineId;
        ForgetPoint();
        Destination = RestoreDestination.OriginalLocation;
        AlternatePath = null;
        Step = RestoreWizardStep.Point;
    }

    /// <summary>Chooses the point and the region to read it from: forgets the files chosen in another point.</summary>
    public void ChoosePoint(RestorePoint point, string region)
    {
        ForgetPoint();
        Point = point;
        PointId = point.Id;
        Region = region;
        Step = RestoreWizardStep.Files;
    }

    private void ForgetPoint()
    {
        Point = null;
        PointId = null;
        Region = null;
        Path = null;
        Changed = null;
        Selected = [];
        Plan = null;
        Errors = [];
        JobId = null;
    }

    public void Toggle(string path, bool on)
    {
        if (on && !Selected.Contains(path)) Selected.Add(path);
        else if (!on) Selected.Remove(path);
        Plan = null;
    }

    public void ChooseTargetMachine(Guid? machine)
    {
        TargetMachineId = machine;
        Plan = null;
        if (OnOtherMachine)
            Destination = RestoreDestination.AlternateLocation; // another machine has no "original location" of these files
    }

    /// <summary>The restore as chosen; only once an item and a point are chosen.</summary>
    public FileRestoreRequest Request() =>
        new(Item!.Id, Point!.Id, Selected, Destination, AlternatePath, Conflict, Region, Sparse,
            Item.MachineId is null ? null : TargetMachineId ?? Item.MachineId);

    /// <summary>The saved choices of <paramref name="saved"/> after its item and point were chosen again (a reload).</summary>
    public void KeepChoicesOf(RestoreWizardState saved)
    {
        Selected = saved.Selected;
        Destination = saved.Destination;
        AlternatePath = saved.AlternatePath;
        Conflict = saved.Conflict;
        Sparse = saved.Sparse;
        TargetMachineId = saved.TargetMachineId ?? TargetMachineId;
    }
}
