using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Portal.Engine.Operations;
using Portal.Features.Identity;
using Portal.Features.Protection;
using Portal.Features.Regions;
using Portal.Features.Replication;
using Portal.Features.Vaults;
using Portal.Tests.Engine.Storage;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Integration;

/// <summary>
/// A vault's backup upload limits set in the portal pace this host's backups of the vault (issue 25); without them,
/// appsettings' <c>Storage:Regions:…:Throttling</c> does, as before.
/// </summary>
public sealed class UploadLimitsTests : IAsyncLifetime
{
    private readonly TestDatabase database = new();
    private readonly string root = Directory.CreateTempSubdirectory("portal-upload-limits-").FullName;

    public Task InitializeAsync() => database.InitializeAsync();

    public async Task DisposeAsync()
    {
        await database.DisposeAsync();
        Directory.Delete(root, recursive: true);
    }

    private StorageOptions Storage()
    {
        var options = TestRegions.Options();
        options.Root = Path.Combine(root, "regions");
        options.Regions[0].Throttling = new ThrottlingOptions { WorkHoursMbps = 80, NonWorkHoursMbps = 80 }; // east: 10 MB/s
        return options;
    }

    private UploadLimitsService Limits(System.Security.Claims.ClaimsPrincipal user)
    {
        var services = new ServiceCollection().AddFeatureServices(database).AddSingleton<ICurrentUser>(new FixedCurrentUser(user))
            .AddSingleton(Options.Create(Storage())).AddScoped<UploadLimitsService>();
        return services.BuildServiceProvider().CreateScope().ServiceProvider.GetRequiredService<UploadLimitsService>();
    }

    private static readonly DayOfWeek[] Weekdays = [DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday, DayOfWeek.Friday];

    [Fact]
    public async Task The_hosts_backups_of_a_vault_are_paced_by_its_upload_limits_set_in_the_portal_and_by_appsettings_once_reset()
    {
        var ann = TestUsers.WithRoles("Ann", PortalRoles.Contributor);
        var created = await TestPortal.For(database, ann).Vaults().CreateAsync(new CreateVaultRequest("finance", "east"));
        Vault vault;
        await using (var db = database.Factory.CreateDbContext())
            vault = db.Vaults.Single(v => v.Id == created.Id);
        var storageClock = new JumpingTimeProvider(new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero)); // a Monday, in work hours
        var stores = new RegionStores(Options.Create(Storage()), NullLogger<RegionStores>.Instance, storageClock);
        await stores.PrepareAsync(default);
        var keys = new VaultKeys(database.Factory, stores, new EphemeralDataProtectionProvider(),
            Options.Create(new ProtectionOptions { KdfMemoryKiB = 1024, KdfIterations = 1 }), TimeProvider.System);
        await keys.UnlockAsync(vault, "correct horse battery staple", "Ann");
        var source = Directory.CreateDirectory(Path.Combine(root, "source")).FullName;

        // Seconds of storage time one backup of 500 kB of new (incompressible) data takes.
        async Task<double> BackUpAsync()
        {
            await File.WriteAllBytesAsync(Path.Combine(source, "ledger.bin"), RandomNumberGenerator.GetBytes(500_000));
            using var engine = await keys.OpenAsync(vault.Id, vault.Name, vault.Region);
            var started = storageClock.GetUtcNow();
            await engine.BackupAsync(new BackupRequest(source));
            return (storageClock.GetUtcNow() - started).TotalSeconds;
        }

        Assert.InRange(await BackUpAsync(), 0, 0.5); // appsettings: 10 MB/s

        // A reader cannot set them; 0.8 Mbps = 100 kB a second in work hours.
        await Assert.ThrowsAsync<Portal.Features.Common.PortalAccessDeniedException>(() =>
            Limits(TestUsers.WithRoles("Rita", PortalRoles.Reader)).SaveAsync(vault.Id, new ReplicationLimitsRequest("0.8", "", Weekdays, "08:00", "18:00", "UTC")));
        Assert.InRange(await BackUpAsync(), 0, 0.5);
        await Limits(ann).SaveAsync(vault.Id, new ReplicationLimitsRequest("0.8", "", Weekdays, "08:00", "18:00", "UTC"));
        Assert.InRange(await BackUpAsync(), 3.9, 6.5); // 500 kB (and the snapshot's metadata) at 100 kB/s, less the bucket's first second

        // Changed: the next backup follows the new value (8 Mbps = 1 MB/s).
        await Limits(ann).SaveAsync(vault.Id, new ReplicationLimitsRequest("8", "", Weekdays, "08:00", "18:00", "UTC"));
        Assert.InRange(await BackUpAsync(), 0.2, 0.8);

        await Limits(ann).ResetAsync(vault.Id);
        Assert.InRange(await BackUpAsync(), 0, 0.5); // appsettings again
        Assert.False((await Limits(ann).GetAsync(vault.Id)).SetInPortal);
    }
}
