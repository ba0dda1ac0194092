using Portal.Agent.Folders;
using Portal.Engine.Agents;

namespace Portal.Tests.Agent;

/// <summary>
/// Issue 21: the agent's side of the folder picker. Its answer is bounded in count (what is left out is counted), it
/// lists inside its source roots only (a path out, or through a link out, is refused in words), and without roots the
/// whole machine is the root ("/").
/// </summary>
public sealed class FolderListerTests : IDisposable
{
    private readonly string disk = Directory.CreateTempSubdirectory("portal-agent-folders-").FullName;

    public void Dispose() => Directory.Delete(disk, recursive: true);

    [Fact]
    public void A_listing_names_at_most_what_was_asked_and_counts_the_rest()
    {
        foreach (var name in new[] { "e", "d", "c", "b", "a" })
            Directory.CreateDirectory(Path.Combine(disk, name));
        var lister = new FolderLister(new SourceRoots([disk]));

        var answer = lister.List(new FolderListRequest(disk, 2));
        Assert.Equal(disk, answer.Path);
        Assert.Null(answer.Parent);
        Assert.Null(answer.Error);
        Assert.Equal(3, answer.More);
        Assert.Equal(2, answer.Folders.Count);
        Assert.Equal(5, lister.List(new FolderListRequest(disk, 10_000)).Folders.Count); // an ask above 500 is capped, not refused
        Assert.Equal(["a", "b", "c", "d", "e"], lister.List(new FolderListRequest(disk, 10)).Folders);
        var sub = lister.List(new FolderListRequest(Path.Combine(disk, "a"), 10));
        Assert.Equal(Path.Combine(disk, "a"), sub.Path);
        Assert.Equal(disk, sub.Parent);
    }

    [Fact]
    public void Outside_the_roots_or_through_a_link_out_is_refused_and_no_roots_means_the_whole_machine()
    {
        var inside = Directory.CreateDirectory(Path.Combine(disk, "srv")).FullName;
        var outside = Directory.CreateDirectory(Path.Combine(disk, "etc")).FullName;
        Directory.CreateSymbolicLink(Path.Combine(inside, "escape"), outside);
        var lister = new FolderLister(new SourceRoots([inside]));

        Assert.Empty(lister.List(new FolderListRequest(inside, 10)).Folders);
        Assert.Contains("outside the folders this machine may back up", lister.List(new FolderListRequest(outside, 10)).Error);
        Assert.Contains("outside the folders this machine may back up", lister.List(new FolderListRequest(Path.Combine(inside, "escape"), 10)).Error);
        Assert.Contains("not an absolute path", lister.List(new FolderListRequest("srv", 10)).Error);
        Assert.Contains("does not exist", lister.List(new FolderListRequest(Path.Combine(inside, "gone"), 10)).Error);
        Assert.Equal([inside], lister.List(new FolderListRequest(null, 10)).Folders);

        var whole = new FolderLister(new SourceRoots([]));
        Assert.Equal(["/"], whole.List(new FolderListRequest(null, 10)).Folders);
        Assert.Contains("escape", whole.List(new FolderListRequest(inside, 10)).Folders);
        Assert.Throws<ArgumentException>(() => new SourceRoots(["relative/path"]));
    }
}
