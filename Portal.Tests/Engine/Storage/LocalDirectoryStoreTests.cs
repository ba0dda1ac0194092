using Portal.Engine.Storage;

namespace Portal.Tests.Engine.Storage;

/// <summary>The conformance suite on a real temporary folder, plus what is specific to files.</summary>
public sealed class LocalDirectoryStoreTests : ObjectStoreConformanceTests
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "portal-store-tests", Guid.NewGuid().ToString("N"));

    protected override Task<IObjectStore> CreateStoreAsync() => Task.FromResult<IObjectStore>(new LocalDirectoryStore(_root));

    protected override Task DisposeStoreAsync()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_leftover_temporary_file_from_a_crashed_put_is_never_listed()
    {
        Directory.CreateDirectory(Path.Combine(_root, "data", "aa"));
        await File.WriteAllTextAsync(Path.Combine(_root, "data", "aa", "#tmp-0123"), "torn");
        var names = new List<string>();
        await foreach (var o in Store.ListAsync("")) names.Add(o.Name);
        Assert.Empty(names);
    }

    [Fact]
    public async Task Objects_are_plain_files_under_the_root()
    {
        await Store.PutAsync("data/ab/xyz", new byte[] { 1, 2, 3 });
        Assert.Equal([1, 2, 3], await File.ReadAllBytesAsync(Path.Combine(_root, "data", "ab", "xyz")));
    }
}
