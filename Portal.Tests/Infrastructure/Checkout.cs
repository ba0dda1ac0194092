namespace Portal.Tests.Infrastructure;

/// <summary>The repository checkout the tests run from.</summary>
public static class Checkout
{
    public static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Portal.sln")))
                return dir.FullName;
        }

        throw new InvalidOperationException($"Portal.sln not found above {AppContext.BaseDirectory}.");
    }
}
