using System.Text.Json.Serialization;
using Portal.Engine.Repository;
using Portal.Engine.Storage;

namespace Portal.Engine.Operations;

/// <summary>
/// The vault manifest: one small sealed object <c>vault/&lt;sha256&gt;</c> holding a document the repository's owner
/// writes (the portal's vault settings, policies and items), so the catalog can be rebuilt from storage alone. Each write
/// adds the new object, then removes older ones; a reader takes the newest it can read. Check and prune leave these
/// objects alone (they are not packs, indexes or snapshots), and replication copies them with the keys and config.
/// </summary>
internal sealed class VaultManifestOperation(Repo repo)
{
    public async Task<VaultManifest> WriteAsync(string document, CancellationToken ct)
    {
        var written = repo.Time.GetUtcNow();
        var name = await repo.SaveJsonAsync(Repo.VaultManifestPrefix, new VaultManifestObject { Written = written, Document = document },
            RepoJson.Default.VaultManifestObject, ct).ConfigureAwait(false);
        // Older manifests go only after the new one is stored; one written meanwhile by another writer is newer and stays.
        foreach (var (other, manifest) in await LoadAllAsync(ct).ConfigureAwait(false))
        {
            if (other != name && manifest.Written <= written)
                await repo.Store.DeleteAsync(other, CancellationToken.None).ConfigureAwait(false);
        }

        return new VaultManifest(document, written);
    }

    public async Task<VaultManifest?> ReadAsync(CancellationToken ct)
    {
        var newest = (await LoadAllAsync(ct).ConfigureAwait(false))
            .OrderByDescending(m => m.Manifest.Written).ThenBy(m => m.Name, StringComparer.Ordinal).FirstOrDefault();
        return newest.Manifest is { } m ? new VaultManifest(m.Document, m.Written) : null;
    }

    private async Task<List<(string Name, VaultManifestObject Manifest)>> LoadAllAsync(CancellationToken ct)
    {
        var all = new List<(string, VaultManifestObject)>();
        foreach (var name in await repo.ListNamesAsync(Repo.VaultManifestPrefix, ct).ConfigureAwait(false))
        {
            try
            {
                all.Add((name, await repo.LoadJsonAsync(name, RepoJson.Default.VaultManifestObject, ct).ConfigureAwait(false)));
            }
            catch (DamagedObjectException)
            {
                // a damaged or vanished manifest is skipped: an older good one is better than none
            }
        }

        return all;
    }
}

/// <summary>The sealed <c>vault/&lt;sha256&gt;</c> object: when it was written and the owner's document (JSON text).</summary>
internal sealed class VaultManifestObject
{
    [JsonPropertyName("version")] public int Version { get; set; } = 1;
    [JsonPropertyName("written")] public DateTimeOffset Written { get; set; }
    [JsonPropertyName("document")] public string Document { get; set; } = "";
}
