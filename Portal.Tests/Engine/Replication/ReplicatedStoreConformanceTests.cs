using Portal.Engine.Storage;
using Portal.Tests.Engine.Storage;

namespace Portal.Tests.Engine.Replication;

/// <summary>The LRS store over three real folders keeps the contract of a single store.</summary>
public sealed class ReplicatedStoreConformanceTests : ObjectStoreConformanceTests
{
    private readonly ReplicaSet set = new();

    protected override Task<IObjectStore> CreateStoreAsync() => Task.FromResult<IObjectStore>(set.Store);

    protected override Task DisposeStoreAsync()
    {
        set.Dispose();
        return Task.CompletedTask;
    }
}
