using MudBlazor;

namespace Portal.Components.Layout;

internal static class PortalTheme
{
    public static readonly MudTheme Theme = new()
    {
        // Status colours dark enough for text and for white text on them (WCAG AA, 4.5:1 on white: axe's color-contrast
        // rule); MudBlazor's defaults (#00c853, #ff9800, #2196f3, #f44336) read poorly as text.
        PaletteLight = new PaletteLight
        {
            Primary = "#0f6cbd", AppbarBackground = "#0f6cbd", Success = "#107c10", Warning = "#8a5300", Info = "#0063b1", Error = "#c50f1f",
            TextDisabled = "rgba(0,0,0,0.6)",
        },
        // Dark: links, labels, the current breadcrumb and text buttons at 4.5:1 or more on the dark surfaces (axe in dark
        // mode); a filled button's or chip's label is dark on the light status colours (a job's "Completed" chip was white
        // on MudBlazor's #00c853, an info alert's text #2196f3 on its dark tint).
        PaletteDark = new PaletteDark
        {
            Primary = "#6cb4ff", PrimaryContrastText = "#10243a", Error = "#ff7b8a", ErrorContrastText = "#3a0d14",
            Success = "#4cc38a", SuccessContrastText = "#0b2a17", Info = "#6cb4ff", InfoContrastText = "#10243a",
            Warning = "#ffb347", WarningContrastText = "#2b1a00",
            // An alert's text is the colour's "darken" shade on its tint: on a dark surface it must be lighter instead.
            InfoDarken = "#a8d1ff", SuccessDarken = "#8be0b5", WarningDarken = "#ffcc80", ErrorDarken = "#ffa3ad",
            TextSecondary = "rgba(255,255,255,0.70)", TextDisabled = "rgba(255,255,255,0.60)",
        },
    };
}
