using Portal.Engine.Operations;

namespace Portal.Tests.Engine.Operations;

public sealed class PathFilterTests : IDisposable
{
    private readonly EngineTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Fact]
    public async Task Excluded_names_and_folders_are_not_backed_up_and_includes_keep_only_matching_files()
    {
        _kit.Write("docs/report.docx", "report");
        _kit.Write("docs/notes.tmp", "scratch");
        _kit.Write("docs/old/draft.docx", "draft");
        _kit.Write("app/node_modules/lib/index.js", "js");
        _kit.Write("app/readme.txt", "readme");
        using var engine = await _kit.InitAsync();

        var excluded = await engine.BackupAsync(new BackupRequest(_kit.Source) { Filter = PathFilter.Create(null, ["*.tmp", "node_modules", "docs/old"]) });
        Assert.Equal(["app/readme.txt", "docs/report.docx"], await Files(engine, excluded.SnapshotId));

        var included = await engine.BackupAsync(new BackupRequest(_kit.Source) { Filter = PathFilter.Create(["*.docx"], ["docs/old"]) });
        Assert.Equal(["docs/report.docx"], await Files(engine, included.SnapshotId));
        Assert.Equal(1, included.Files);
    }

    [Theory]
    [InlineData("../etc/*")]
    [InlineData("   ")]
    public void Patterns_that_leave_the_source_or_are_empty_are_refused_with_the_reason(string pattern)
    {
        Assert.NotNull(PathFilter.Check(pattern));
        Assert.Throws<ArgumentException>(() => PathFilter.Create(null, [pattern == "   " ? "\0" : pattern]));
    }

    private static async Task<List<string>> Files(Portal.Engine.BackupEngine engine, string snapshot) =>
        [.. (await engine.ListTreeAsync(snapshot)).Where(e => e.Type != EntryType.Directory).Select(e => e.Path).Order(StringComparer.Ordinal)];
}
