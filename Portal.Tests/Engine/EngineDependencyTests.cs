using System.Xml.Linq;

namespace Portal.Tests.Engine;

/// <summary>The engine stays free of the web, the database and the UI, so the CLI and other hosts can use it alone.</summary>
public sealed class EngineDependencyTests
{
    private static readonly string[] Forbidden =
        ["Microsoft.AspNetCore", "Microsoft.EntityFrameworkCore", "Npgsql", "MudBlazor", "Microsoft.AspNetCore.SignalR", "Microsoft.Identity.Web"];

    [Fact]
    public void The_engine_project_references_no_web_database_or_UI_package()
    {
        var project = XDocument.Load(Path.Combine(RepositoryRoot(), "Portal.Engine", "Portal.Engine.csproj"));
        var references = project.Descendants()
            .Where(e => e.Name.LocalName is "PackageReference" or "FrameworkReference" or "ProjectReference")
            .Select(e => (string?)e.Attribute("Include") ?? "")
            .ToList();

        Assert.DoesNotContain(references, r => Forbidden.Any(f => r.StartsWith(f, StringComparison.OrdinalIgnoreCase))
            || r.Contains("Portal.csproj", StringComparison.OrdinalIgnoreCase));
        Assert.Equal("Microsoft.NET.Sdk", project.Root!.Attribute("Sdk")?.Value);
    }

    [Fact]
    public void The_compiled_engine_loads_no_web_database_or_UI_assembly()
    {
        var engine = typeof(Portal.Engine.BackupEngine).Assembly;
        var referenced = engine.GetReferencedAssemblies().Select(a => a.Name ?? "").ToList();

        Assert.DoesNotContain(referenced, r => Forbidden.Any(f => r.StartsWith(f, StringComparison.OrdinalIgnoreCase)) || r == "Portal");
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Portal.sln")))
                return dir.FullName;
        }

        throw new InvalidOperationException($"Portal.sln not found above {AppContext.BaseDirectory}.");
    }
}
