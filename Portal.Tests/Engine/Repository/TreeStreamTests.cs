using System.Text.Json;
using Portal.Engine;
using Portal.Engine.Repository;

namespace Portal.Tests.Engine.Repository;

/// <summary>
/// Trees written and read one node at a time (the folder-by-folder backup, issue 24) are the same bytes as a whole
/// serialized <see cref="Tree"/>: a folder stored by today's backup keeps the id that earlier backups gave it, so
/// nothing is stored twice across the change.
/// </summary>
public sealed class TreeStreamTests
{
    private static Tree Sample() => new()
    {
        Nodes =
        [
            new Node { Name = "a dir", Type = Node.Dir, Mode = 0x1ED, Subtree = new string('1', 64), MtimeNs = 1, Inode = 7 },
            new Node { Name = "b.txt", Size = 12, Content = [new string('a', 64), new string('b', 64)], Fingerprint = new string('c', 32), Links = 2 },
            new Node { Name = "c-\u00e9t\u00e9 \"quoted\"", Type = Node.Symlink, LinkTarget = "../b.txt", Xattrs = [new Xattr { Name = "user.x", Value = [1, 2, 3] }] },
            new Node { Name = "empty", Content = [] },
        ],
    };

    [Fact]
    public void A_tree_written_node_by_node_is_byte_identical_to_the_whole_tree_serialized()
    {
        var tree = Sample();
        using var writer = new TreeWriter();
        foreach (var node in tree.Nodes) writer.Add(node);

        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(tree, RepoJson.Default.Tree), writer.Finish().ToArray());
        Assert.Equal(4, writer.Count);
    }

    [Fact]
    public void A_large_tree_is_written_in_pieces_and_stored_and_read_back_as_the_same_bytes_with_the_same_id()
    {
        // A folder of 20,000 entries: about 5 MB of JSON, more than one segment, never held in one piece to be stored.
        var tree = new Tree { Nodes = [.. Enumerable.Range(0, 20_000).Select(i => new Node { Name = $"message-{i:D6}.eml", Size = i, Content = [new string((char)('a' + i % 6), 64)], Fingerprint = new string('c', 32) })] };
        using var writer = new TreeWriter();
        foreach (var node in tree.Nodes) writer.Add(node);
        var written = writer.Finish();
        var segments = written.Segments;
        var whole = JsonSerializer.SerializeToUtf8Bytes(tree, RepoJson.Default.Tree);
        Assert.True(segments.Count > 1, $"{whole.Length} bytes in {segments.Count} segment");
        Assert.Equal(whole, written.ToArray());

        var key = Portal.Engine.Crypto.MasterKey.CreateRandom();
        var id = key.Id(segments);
        Assert.Equal(key.Id(whole), id);
        var aad = Repo.BlobAad(Repo.TreeBlob, id);
        var sealedBytes = Portal.Engine.Compression.BlobCodec.Encode(key, segments, aad);
        Assert.True(sealedBytes.Length < whole.Length / 2, $"{sealedBytes.Length} bytes stored for {whole.Length}");
        Assert.Equal(whole, Portal.Engine.Compression.BlobCodec.Decode(key, sealedBytes, aad));
    }

    [Fact]
    public void A_cursor_reads_every_node_in_order_and_seeks_by_name_counting_the_ones_passed_over()
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(Sample(), RepoJson.Default.Tree);

        var all = new TreeCursor(json);
        var names = new List<string>();
        while (all.Next() is { } node) names.Add(node.Name);
        Assert.Equal(Sample().Nodes.Select(n => n.Name), names);

        var cursor = new TreeCursor(json);
        var skipped = 0;
        Assert.Null(cursor.Seek("a", ref skipped)); // before the first: nothing passed over
        Assert.Equal(0, skipped);
        var b = cursor.Seek("b.txt", ref skipped);
        Assert.Equal((1, 12L, 2), (skipped, b!.Size, b.Content!.Count)); // "a dir" passed over
        Assert.True(cursor.HasMore);
        Assert.Null(cursor.Seek("d", ref skipped));
        Assert.Equal(2, skipped);
        Assert.Equal("empty", cursor.Seek("empty", ref skipped)!.Name);
        Assert.False(cursor.HasMore);
    }

    [Fact]
    public void A_damaged_tree_is_a_repository_error_in_words()
    {
        var error = Assert.Throws<RepositoryException>(() => new TreeCursor("{\"nodes\":[{\"name\":"u8.ToArray()).Next());
        Assert.Equal("A tree cannot be parsed.", error.Message);
        Assert.Null(new TreeCursor("{\"nodes\":null}"u8.ToArray()).Next());
    }
}
