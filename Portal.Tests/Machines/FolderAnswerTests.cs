using Portal.Engine.Agents;
using Portal.Features.Machines;

namespace Portal.Tests.Machines;

/// <summary>
/// Issue 21: a machine's folder listing is hostile input. A taken-over agent must not make the picker offer a path it
/// was not asked about, a name that climbs out ("..") or hides another path ("a/b"), control characters, or more than
/// was asked for; the whole answer is refused in words, and the path can still be typed.
/// </summary>
public sealed class FolderAnswerTests
{
    [Fact]
    public void A_good_answer_becomes_full_paths_in_order()
    {
        var listing = FolderAnswers.Check("web-01", "/srv", 10, new FolderListResponse("/srv", null, ["share", "backups"], 2));
        Assert.Equal(("/srv", null, 2), (listing.Path, listing.Parent, listing.More));
        Assert.Equal(["/srv/backups", "/srv/share"], listing.Folders);
        Assert.Equal(["/home", "/srv"], FolderAnswers.Check("web-01", null, 10, new FolderListResponse(null, null, ["/srv", "/home"], 0)).Folders);
        Assert.Equal(["/etc"], FolderAnswers.Check("web-01", "/", 10, new FolderListResponse("/", null, ["etc"], 0)).Folders);
    }

    public static TheoryData<string?, FolderListResponse?> Hostile => new()
    {
        { "/srv", null },
        { "/srv", new FolderListResponse("/etc", null, ["shadow"], 0) },                    // another folder than asked
        { "/srv", new FolderListResponse("/srv", "/etc", ["share"], 0) },                   // a parent that is not the parent
        { "/srv", new FolderListResponse("/srv", null, [".."], 0) },
        { "/srv", new FolderListResponse("/srv", null, ["."], 0) },
        { "/srv", new FolderListResponse("/srv", null, ["../etc"], 0) },
        { "/srv", new FolderListResponse("/srv", null, ["a/b"], 0) },
        { "/srv", new FolderListResponse("/srv", null, [""], 0) },
        { "/srv", new FolderListResponse("/srv", null, ["bad\u001b[31mname"], 0) },
        { "/srv", new FolderListResponse("/srv", null, ["twice", "twice"], 0) },
        { "/srv", new FolderListResponse("/srv", null, [new string('x', 256)], 0) },
        { "/srv", new FolderListResponse("/srv", null, ["a", "b", "c", "d"], 0) },         // more than the 3 asked for
        { "/srv", new FolderListResponse("/srv", null, ["a"], -1) },
        { "/srv", new FolderListResponse("/srv", null, null!, 0) },
        { null, new FolderListResponse("/srv", null, ["/srv"], 0) },
        { null, new FolderListResponse(null, null, ["srv"], 0) },                          // a top folder that is not absolute
        { null, new FolderListResponse(null, null, ["/srv/../etc"], 0) },
        { null, new FolderListResponse(null, null, ["/srv\n/etc"], 0) },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void A_hostile_answer_is_refused_whole_in_words(string? asked, FolderListResponse? answer)
    {
        var refused = Assert.Throws<MachineFolderException>(() => FolderAnswers.Check("web-01", asked, 3, answer));
        Assert.StartsWith("web-01 ", refused.Message);
        Assert.EndsWith("Type the folder's path instead.", refused.Message);
    }

    [Fact]
    public void The_machines_own_refusal_is_shown_clipped_and_without_control_characters()
    {
        var refused = Assert.Throws<MachineFolderException>(() =>
            FolderAnswers.Check("web-01", "/root", 3, new FolderListResponse(null, null, [], 0, "The agent may not read\u0007 the folder /root." + new string('!', 1000))));
        Assert.StartsWith("web-01: The agent may not read  the folder /root.", refused.Message);
        Assert.True(refused.Message.Length < 520);
    }
}
