using Microsoft.Extensions.Time.Testing;
using Portal.Features.Machines;
using Portal.Features.Machines.Access;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Machines;

/// <summary>The scheme's machine lookup: a revocation bites within <see cref="MachineDirectory.CacheFor"/> of the portal's clock, or at once on this instance.</summary>
public sealed class AccessDirectoryTests : IAsyncLifetime
{
    private readonly TestDatabase database = new();
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2026, 12, 7, 10, 0, 0, TimeSpan.Zero));

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    private async Task<Machine> MachineAsync()
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var vault = new Vault { Id = Guid.NewGuid(), Name = "v", NormalizedName = "V", Region = "east", CreatedAt = now, UpdatedAt = now };
        var machine = new Machine { Id = Guid.NewGuid(), VaultId = vault.Id, Name = "m", NormalizedName = "M", SigningKey = [1], AgreementKey = [2], RegisteredAt = now };
        await using var db = await database.Factory.CreateDbContextAsync();
        db.Vaults.Add(vault);
        db.Machines.Add(machine);
        await db.SaveChangesAsync();
        return machine;
    }

    private async Task RevokeInDatabaseAsync(Guid id)
    {
        await using var db = await database.Factory.CreateDbContextAsync();
        var row = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.SingleAsync(db.Machines, m => m.Id == id);
        row.RevokedAt = clock.GetUtcNow().UtcDateTime;
        row.RevokedBy = "Ann";
        await db.SaveChangesAsync();
    }

    [Fact]
    public async Task A_revocation_elsewhere_is_seen_once_the_cache_of_two_seconds_has_passed()
    {
        var machine = await MachineAsync();
        using var directory = new MachineDirectory(database.Factory, clock, new MachineSignals());
        Assert.Null((await directory.FindAsync(machine.Id))!.RevokedAt);
        await RevokeInDatabaseAsync(machine.Id);

        clock.Advance(MachineDirectory.CacheFor - TimeSpan.FromMilliseconds(1));
        Assert.Null((await directory.FindAsync(machine.Id))!.RevokedAt); // still the cached answer, at most 2 s old
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal("Ann", (await directory.FindAsync(machine.Id))!.RevokedBy);
    }

    [Fact]
    public async Task A_revocation_announced_on_this_instance_is_seen_at_once()
    {
        var machine = await MachineAsync();
        var signals = new MachineSignals();
        using var directory = new MachineDirectory(database.Factory, clock, signals);
        Assert.Null((await directory.FindAsync(machine.Id))!.RevokedAt);
        await RevokeInDatabaseAsync(machine.Id);

        await signals.RevokedAsync(machine.Id);

        Assert.Equal("Ann", (await directory.FindAsync(machine.Id))!.RevokedBy);
    }
}
