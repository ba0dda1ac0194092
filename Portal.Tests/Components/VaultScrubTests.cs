using System.Security.Cryptography;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Portal.Components.Pages.Vaults;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Regions;
using Portal.Features.Replication;
using Portal.Features.Vaults;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>The vault page says how many copies the region really keeps and what the region's last scrub found.</summary>
public sealed class VaultScrubTests : PortalComponentTest
{
    [Fact]
    public async Task The_vault_page_shows_the_regions_replica_count_and_the_last_scrub_that_healed_a_damaged_copy()
    {
        var vault = await TestPortal.For(Database, TestUsers.WithRoles("Ann", PortalRoles.Contributor)).Vaults()
            .CreateAsync(new CreateVaultRequest("payroll", "east", StorageRedundancy.LRS));
        var data = RandomNumberGenerator.GetBytes(10_000);
        var hash = Convert.ToHexStringLower(SHA256.HashData(data));
        var pack = $"data/{hash[..2]}/{hash}";
        await Context.Services.GetRequiredService<RegionStores>().Vault(vault.Id, "east").PutAsync(pack, data);
        var copy = Path.Combine(Root, "regions", "east", "2", RegionStores.VaultPrefix(vault.Id), pack);
        var bytes = await File.ReadAllBytesAsync(copy);
        bytes[0] ^= 1;
        await File.WriteAllBytesAsync(copy, bytes);
        var jobId = await Context.Services.GetRequiredService<ScrubRunner>().RunAsync("east", "schedule", default);
        await using (var db = await Database.Factory.CreateDbContextAsync())
            Assert.Equal(JobStatus.Completed, (await db.Jobs.FindAsync(jobId))!.Status);
        SignIn(TestUsers.WithRoles("Rita", PortalRoles.Reader));

        var page = RenderPage<VaultDetail>(p => p.Add(c => c.Name, "payroll"));

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=vault-scrub-region]")));
        Assert.Equal("Locally redundant (LRS): 3 copies in east", page.Find("[data-testid=vault-redundancy]").TextContent);
        var scrub = page.Find("[data-testid=vault-scrub-region]").TextContent;
        Assert.StartsWith("east: last scrubbed ", scrub);
        Assert.Contains("1 objects compared across 3 replicas, 1 of 1 bad copies healed, 0 object(s) lost in the region.", scrub);
        Assert.Empty(page.FindAll("[data-testid=vault-scrub-lost]"));
    }
}
