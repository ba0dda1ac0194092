using Portal.Engine;

namespace Portal.Tests.Engine;

public sealed class EngineDependencyTests
{
    [Fact]
    public void The_engine_references_no_web_database_or_ui_framework()
    {
        var refs = typeof(BackupEngine).Assembly.GetReferencedAssemblies().Select(a => a.Name ?? "").ToList();
        Assert.DoesNotContain(refs, r => r.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal)
            || r.StartsWith("Microsoft.EntityFrameworkCore", StringComparison.Ordinal)
            || r.Contains("SignalR", StringComparison.Ordinal)
            || r.StartsWith("MudBlazor", StringComparison.Ordinal)
            || r.StartsWith("Npgsql", StringComparison.Ordinal));
    }
}
