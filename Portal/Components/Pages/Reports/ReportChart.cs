namespace Portal.Components.Pages.Reports;

/// <summary>Which chart a report tab shows above its table.</summary>
public enum ReportChart
{
    Jobs,
    Transfer,
    Storage,
}
