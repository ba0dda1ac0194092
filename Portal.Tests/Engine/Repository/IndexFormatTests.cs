using System.Buffers.Binary;
using Portal.Engine;
using Portal.Engine.Crypto;
using Portal.Engine.Operations;
using Portal.Engine.Progress;
using Portal.Engine.Repository;

namespace Portal.Tests.Engine.Repository;

public sealed class IndexFormatTests : IDisposable
{
    private readonly EngineTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    private static BlobId Id(int seed) => new(EngineTestKit.Random(32, seed));

    private static List<IndexedPack> Sample() =>
    [
        new(Id(1), [(Id(2), Repo.DataBlob, 0u, 100u), (Id(3), Repo.TreeBlob, 100u, uint.MaxValue)]),
        new(Id(4), []),
        new(Id(5), [(Id(6), Repo.DataBlob, 7u, 8u)]),
    ];

    [Fact]
    public void Version_2_round_trips_every_field()
    {
        var decoded = IndexCodec.Decode(IndexCodec.Encode(Sample()));
        Assert.Equal(Sample().Select(p => (p.Id, string.Join(",", p.Blobs))), decoded.Select(p => (p.Id, string.Join(",", p.Blobs))));
    }

    [Fact]
    public async Task A_repository_whose_index_is_version_1_JSON_still_backs_up_incrementally_and_restores()
    {
        _kit.WriteMixedTree();
        using (var engine = await _kit.InitAsync())
            await engine.BackupAsync(new BackupRequest(_kit.Source), new Progress<OperationProgress>(), default);
        // Rewrite every index object as version 1 (what repositories written before version 2 hold).
        using (var repo = await Repo.OpenAsync(_kit.Store, EngineTestKit.Passphrase, TimeProvider.System, "test", default))
        {
            foreach (var name in await repo.ListNamesAsync(Repo.IndexPrefix, default))
            {
                var packs = await repo.LoadIndexAsync(name, default);
                var v1 = new IndexFile
                {
                    Packs = packs.Select(p => new IndexPack
                    {
                        Id = p.Id.ToHex(),
                        Blobs = p.Blobs.Select(b => new IndexBlob { Id = b.Id.ToHex(), Type = b.Type, Offset = b.Offset, Length = b.Length }).ToList(),
                    }).ToList(),
                };
                await repo.SaveJsonAsync(Repo.IndexPrefix, v1, RepoJson.Default.IndexFile, default);
                await _kit.Store.DeleteAsync(name);
            }
        }
        using (var engine = await _kit.OpenAsync())
        {
            _kit.Write("docs/new.txt", "one more\n");
            var second = await engine.BackupAsync(new BackupRequest(_kit.Source), new Progress<OperationProgress>(), default);
            Assert.Equal(1, second.FilesRead); // the version-1 index told it everything else is stored
            var target = _kit.NewTarget();
            var restored = await engine.RestoreAsync(new RestoreRequest("latest", target), new Progress<OperationProgress>(), default);
            Assert.Empty(restored.Errors);
            EngineTestKit.AssertSameTree(_kit.Source, target);
            Assert.Empty((await engine.CheckAsync(readData: true)).Problems);
        }
    }

    public static TheoryData<string> Hostile => ["truncated", "huge pack count", "huge blob count", "trailing", "bad type", "bad magic", "empty"];

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Malformed_version_2_bytes_are_refused_without_allocating_what_they_claim(string kind)
    {
        var bytes = IndexCodec.Encode(Sample());
        bytes = kind switch
        {
            "truncated" => bytes[..^3],
            "huge pack count" => Patch(bytes, 4, int.MaxValue),
            "huge blob count" => Patch(bytes, 8 + 32, int.MaxValue),
            "trailing" => [.. bytes, 0],
            "bad type" => PatchByte(bytes, 8 + 36 + 32, 9),
            "bad magic" => PatchByte(bytes, 0, (byte)'X'),
            _ => [],
        };
        Assert.Throws<InvalidDataException>(() => IndexCodec.Decode(bytes));
    }

    private static byte[] Patch(byte[] bytes, int at, int value)
    {
        var copy = bytes.ToArray();
        BinaryPrimitives.WriteInt32LittleEndian(copy.AsSpan(at), value);
        return copy;
    }

    private static byte[] PatchByte(byte[] bytes, int at, byte value)
    {
        var copy = bytes.ToArray();
        copy[at] = value;
        return copy;
    }
}
