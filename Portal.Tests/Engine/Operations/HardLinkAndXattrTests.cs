using System.Text;
using Portal.Engine.Operations;
using Portal.Engine.Platform;

namespace Portal.Tests.Engine.Operations;

/// <summary>Hard links come back as links (one inode, not copies); extended attributes come back on files and folders.</summary>
public sealed class HardLinkAndXattrTests : IDisposable
{
    private readonly EngineTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    private static StatInfo Stat(string path) => Native.TryLStat(path) ?? throw new FileNotFoundException(path);

    [Fact]
    public async Task Hard_links_are_restored_as_links_to_one_file()
    {
        if (!OperatingSystem.IsLinux()) return;
        var first = _kit.Write("a/original.bin", EngineTestKit.Random(300_000, 3));
        Native.CreateHardLink(first, Path.Combine(_kit.Source, "a/second-name.bin"));
        Directory.CreateDirectory(Path.Combine(_kit.Source, "b"));
        Native.CreateHardLink(first, Path.Combine(_kit.Source, "b/third-name.bin"));
        _kit.Write("b/alone.txt", "not linked");
        using var engine = await _kit.InitAsync();
        await engine.BackupAsync(new BackupRequest(_kit.Source));
        var again = await engine.BackupAsync(new BackupRequest(_kit.Source)); // the no-change path keeps the link counts too

        var target = _kit.NewTarget();
        var result = await engine.RestoreAsync(new RestoreRequest(again.SnapshotId, target));
        Assert.Empty(result.Errors);
        EngineTestKit.AssertSameTree(_kit.Source, target);
        var inodes = new[] { "a/original.bin", "a/second-name.bin", "b/third-name.bin" }.Select(p => Stat(Path.Combine(target, p))).ToList();
        Assert.Single(inodes.Select(s => s.Inode).Distinct());
        Assert.All(inodes, s => Assert.Equal(3u, s.Links));
        Assert.Equal(1u, Stat(Path.Combine(target, "b/alone.txt")).Links);
    }

    [Fact]
    public async Task Restoring_one_name_of_a_hard_linked_file_writes_its_content()
    {
        if (!OperatingSystem.IsLinux()) return;
        var first = _kit.Write("a/original.txt", "shared content");
        Native.CreateHardLink(first, Path.Combine(_kit.Source, "z-second.txt"));
        using var engine = await _kit.InitAsync();
        await engine.BackupAsync(new BackupRequest(_kit.Source));

        var target = _kit.NewTarget();
        var result = await engine.RestoreAsync(new RestoreRequest("latest", target) { Include = ["z-second.txt"] });
        Assert.Empty(result.Errors);
        Assert.Equal("shared content", await File.ReadAllTextAsync(Path.Combine(target, "z-second.txt")));
    }

    [Fact]
    public async Task Extended_attributes_of_files_and_folders_are_restored_and_changes_are_seen()
    {
        if (!OperatingSystem.IsLinux()) return;
        var file = _kit.Write("docs/report.txt", "report");
        var folder = Path.Combine(_kit.Source, "docs");
        ExtendedAttributes.Write(file, [("user.comment", Encoding.UTF8.GetBytes("quarterly ünïcødé")), ("user.binary", [0, 1, 2, 255])]);
        ExtendedAttributes.Write(folder, [("user.project", "portal"u8.ToArray())]);
        using var engine = await _kit.InitAsync();
        await engine.BackupAsync(new BackupRequest(_kit.Source));

        var target = _kit.NewTarget();
        Assert.Empty((await engine.RestoreAsync(new RestoreRequest("latest", target))).Errors);
        Assert.Equal(Describe(file), Describe(Path.Combine(target, "docs/report.txt")));
        Assert.Equal(Describe(folder), Describe(Path.Combine(target, "docs")));
        Assert.Contains("user.binary=000102FF", Describe(file));

        // Changing an attribute changes ctime: the next backup reads the file again and stores the new value (the
        // content is the same, so the file counts as unchanged).
        ExtendedAttributes.Write(file, [("user.comment", "revised"u8.ToArray())]);
        var second = await engine.BackupAsync(new BackupRequest(_kit.Source));
        Assert.Equal((0, 1), (second.FilesRead, second.FilesUnchanged));
        var target2 = _kit.NewTarget();
        Assert.Empty((await engine.RestoreAsync(new RestoreRequest("latest", target2))).Errors);
        Assert.Contains("user.comment=" + Convert.ToHexString("revised"u8), Describe(Path.Combine(target2, "docs/report.txt")));
    }

    private static string Describe(string path) =>
        string.Join(";", (ExtendedAttributes.Read(path) ?? []).Select(a => $"{a.Name}={Convert.ToHexString(a.Value)}"));
}
