using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Portal.Engine.Chunking;
using Portal.Engine.Compression;
using Portal.Engine.Crypto;
using Portal.Engine.Storage;

namespace Portal.Engine.Repository;

/// <summary>
/// An opened repository: the store, the unwrapped master key and the config. Knows the object names and
/// how to seal, name (SHA-256 of the sealed bytes) and verify objects. See docs/repository-format.md.
/// </summary>
internal sealed class Repo : IDisposable
{
    public const string ConfigName = "config", KeysPrefix = "keys/", SnapshotsPrefix = "snapshots/",
        IndexPrefix = "index/", DataPrefix = "data/", LocksPrefix = "locks/", VaultManifestPrefix = "vault/", HoldsPrefix = "holds/";
    public const byte DataBlob = 0, TreeBlob = 1;
    public const int DefaultPackTarget = 16 * 1024 * 1024;

    private Repo(IObjectStore store, MasterKey key, RepoConfig config, string keyName, TimeProvider time)
    {
        Store = store;
        Key = key;
        Config = config;
        KeyName = keyName;
        Time = time;
        Chunker = new ChunkerParams(config.ChunkMin, config.ChunkAvg, config.ChunkMax);
    }

    public IObjectStore Store { get; }
    public MasterKey Key { get; }
    public RepoConfig Config { get; }
    public string KeyName { get; private set; }
    public TimeProvider Time { get; }
    public ChunkerParams Chunker { get; }

    public FastCdc CreateChunker() => new(Key.GearTable(), Chunker);

    public static async Task<Repo> InitAsync(IObjectStore store, string passphrase, KdfParameters kdf, TimeProvider time, string location, CancellationToken ct)
    {
        KeyObject.ValidatePassphrase(passphrase);
        if (await store.StatAsync(ConfigName, ct).ConfigureAwait(false) is not null)
            throw new RepositoryExistsException(location);
        await foreach (var _ in store.ListAsync(KeysPrefix, ct).ConfigureAwait(false)) throw new RepositoryExistsException(location);
        var key = MasterKey.CreateRandom();
        var p = ChunkerParams.Default;
        var config = new RepoConfig
        {
            Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), Created = time.GetUtcNow(),
            ChunkMin = p.Min, ChunkAvg = p.Avg, ChunkMax = p.Max, PackTarget = DefaultPackTarget,
        };
        var repo = new Repo(store, key, config, "", time);
        // The key object first: a config without a key would be unreadable, a key without config is just "not initialized".
        repo.KeyName = await repo.AddKeyAsync(passphrase, kdf, ct).ConfigureAwait(false);
        var sealedConfig = BlobCodec.Encode(key, JsonSerializer.SerializeToUtf8Bytes(config, RepoJson.Default.RepoConfig), Aad("config"));
        await store.PutAsync(ConfigName, sealedConfig, ct).ConfigureAwait(false);
        return repo;
    }

    /// <summary>Key objects larger than this are not read: a real one is about 400 bytes.</summary>
    private const int MaxKeyObjectBytes = 64 * 1024;

    /// <summary>
    /// Opens with the first key object <paramref name="passphrase"/> unwraps. A key object that cannot be used (damaged,
    /// an unknown format, a key derivation cost out of range) is skipped before any work and named in
    /// <see cref="OpenWarnings"/>, so one bad key object never locks out the others.
    /// </summary>
    public static async Task<Repo> OpenAsync(IObjectStore store, string passphrase, TimeProvider time, string location, CancellationToken ct)
    {
        var keys = new List<ObjectInfo>();
        await foreach (var o in store.ListAsync(KeysPrefix, ct).ConfigureAwait(false)) keys.Add(o);
        if (keys.Count == 0 || await store.StatAsync(ConfigName, ct).ConfigureAwait(false) is null)
            throw new RepositoryNotFoundException(location);
        // Every key object is read and judged first (cheap: a few hundred bytes each, no key derivation), so each unusable
        // one is named whichever key opens the repository.
        var skipped = new List<string>();
        var usable = new List<(string Name, KeyObject Key)>();
        foreach (var info in keys.OrderBy(k => k.Name, StringComparer.Ordinal))
        {
            if (await ReadKeyObjectAsync(store, info, ct).ConfigureAwait(false) is not { } read) continue;
            if (read.Problem is { } problem) skipped.Add($"key object '{info.Name}' was skipped: {problem}.");
            else usable.Add((info.Name, read.Key!));
        }
        var tried = 0;
        foreach (var (name, ko) in usable)
        {
            tried++;
            var key = ko.TryOpen(passphrase);
            if (key is null) continue;
            var repo = await OpenWithKeyAsync(store, key, name, time, ct).ConfigureAwait(false);
            repo.OpenWarnings = skipped;
            return repo;
        }
        if (tried == 0 && skipped.Count > 0) throw new NoUsableKeyException(string.Join(" ", skipped.Select(Capitalized)));
        throw skipped.Count == 0 ? new WrongPassphraseException() : new WrongPassphraseException(string.Join(" ", skipped.Select(Capitalized)));

        static string Capitalized(string s) => char.ToUpperInvariant(s[0]) + s[1..];
    }

    /// <summary>A key object and what makes it unusable (null when it can be tried), or null when it vanished meanwhile.</summary>
    private static async Task<(KeyObject? Key, string? Problem)?> ReadKeyObjectAsync(IObjectStore store, ObjectInfo info, CancellationToken ct)
    {
        if (info.Length > MaxKeyObjectBytes) return (null, $"it is {info.Length} bytes long, far more than a key object");
        byte[] bytes;
        try { bytes = await store.GetAsync(info.Name, ct).ConfigureAwait(false); }
        catch (ObjectNotFoundException) { return null; }
        catch (ObjectCorruptException) { return (null, "its bytes do not match its name (damaged)"); }
        KeyObject? ko;
        try { ko = JsonSerializer.Deserialize(bytes, RepoJson.Default.KeyObject); }
        catch (JsonException) { ko = null; }
        if (ko is null) return (null, "it is not a readable key object");
        return (ko, ko.Problem());
    }

    /// <summary>Key objects skipped on open, each in plain words (empty when every key object was usable).</summary>
    public IReadOnlyList<string> OpenWarnings { get; private set; } = [];

    /// <summary>
    /// Opens with an already unwrapped master key (a host that keeps it sealed for unattended backups).
    /// <paramref name="keyName"/> is the key object it came from, or empty when unknown.
    /// </summary>
    public static async Task<Repo> OpenWithKeyAsync(IObjectStore store, MasterKey key, string keyName, TimeProvider time, CancellationToken ct)
    {
        byte[] configBytes;
        try
        {
            configBytes = BlobCodec.Decode(key, await store.GetAsync(ConfigName, ct).ConfigureAwait(false), Aad("config"));
        }
        catch (Exception e) when (e is CryptographicException or InvalidDataException)
        {
            key.Dispose();
            if (keyName.Length == 0)
                throw new RepositoryKeyMismatchException();
            throw new DamagedObjectException(ConfigName, "it cannot be decrypted with this repository's key.", e);
        }
        var config = JsonSerializer.Deserialize(configBytes, RepoJson.Default.RepoConfig)
            ?? throw new DamagedObjectException(ConfigName, "empty config.");
        if (config.Version != RepoConfig.CurrentVersion || config.Encryption != "aes-256-gcm" || config.Compression != "zstd"
            || config.ChunkId != "hmac-sha256" || config.Chunker != "fastcdc-gear64-nc2")
            throw new RepositoryException($"Repository format {config.Version} ({config.Encryption}, {config.Compression}, {config.ChunkId}) is not supported by this version.");
        return new Repo(store, key, config, keyName, time);
    }

    /// <summary>Writes a new key object for <paramref name="passphrase"/> wrapping the same master key.</summary>
    public async Task<string> AddKeyAsync(string passphrase, KdfParameters kdf, CancellationToken ct)
    {
        var ko = KeyObject.Create(Key, passphrase, kdf, Time.GetUtcNow());
        var bytes = JsonSerializer.SerializeToUtf8Bytes(ko, RepoJson.Default.KeyObject);
        var name = KeysPrefix + Convert.ToHexStringLower(SHA256.HashData(bytes));
        await Store.PutAsync(name, bytes, ct).ConfigureAwait(false);
        return name;
    }

    public async Task ReplaceKeyAsync(string newPassphrase, KdfParameters kdf, CancellationToken ct)
    {
        if (KeyName.Length == 0)
            throw new RepositoryException("Open the repository with its current passphrase to change the passphrase.");
        var old = KeyName;
        KeyName = await AddKeyAsync(newPassphrase, kdf, ct).ConfigureAwait(false);
        await Store.DeleteAsync(old, CancellationToken.None).ConfigureAwait(false);
    }

    public static byte[] Aad(string kind) => Encoding.ASCII.GetBytes("portal/" + kind);

    public static byte[] BlobAad(byte type, BlobId id)
    {
        var aad = new byte[1 + BlobId.Size];
        aad[0] = type;
        id.WriteTo(aad.AsSpan(1));
        return aad;
    }

    public static string PackName(BlobId pack)
    {
        var hex = pack.ToHex();
        return $"{DataPrefix}{hex[..2]}/{hex}";
    }

    /// <summary>Seals a JSON object under <paramref name="prefix"/>; its name is the SHA-256 of the sealed bytes.</summary>
    public Task<string> SaveJsonAsync<T>(string prefix, T value, JsonTypeInfo<T> info, CancellationToken ct) =>
        SaveSealedAsync(prefix, JsonSerializer.SerializeToUtf8Bytes(value, info), ct);

    /// <summary>Loads and verifies a sealed JSON object; any damage becomes a <see cref="DamagedObjectException"/>.</summary>
    public Task<T> LoadJsonAsync<T>(string name, JsonTypeInfo<T> info, CancellationToken ct) =>
        LoadSealedAsync(name, plain => JsonSerializer.Deserialize(plain, info) ?? throw new InvalidDataException("empty"), ct);

    /// <summary>Writes an index object (version 2) for <paramref name="packs"/>.</summary>
    public Task<string> SaveIndexAsync(IReadOnlyList<IndexedPack> packs, CancellationToken ct) =>
        SaveSealedAsync(IndexPrefix, IndexCodec.Encode(packs), ct);

    /// <summary>Loads and verifies an index object of either version; any damage becomes a <see cref="DamagedObjectException"/>.</summary>
    public Task<List<IndexedPack>> LoadIndexAsync(string name, CancellationToken ct) => LoadSealedAsync(name, IndexCodec.Decode, ct);

    private async Task<string> SaveSealedAsync(string prefix, byte[] plain, CancellationToken ct)
    {
        var sealedBytes = BlobCodec.Encode(Key, plain, Aad(prefix.TrimEnd('/')));
        var name = prefix + Convert.ToHexStringLower(SHA256.HashData(sealedBytes));
        await Store.PutAsync(name, sealedBytes, ct).ConfigureAwait(false);
        return name;
    }

    private delegate T Parser<T>(ReadOnlySpan<byte> plain);

    private async Task<T> LoadSealedAsync<T>(string name, Parser<T> parse, CancellationToken ct)
    {
        var prefix = name[..(name.LastIndexOf('/') + 1)];
        byte[] bytes;
        try
        {
            bytes = await Store.GetAsync(name, ct).ConfigureAwait(false);
        }
        catch (ObjectNotFoundException e)
        {
            throw new DamagedObjectException(name, "it is missing.", e);
        }
        var expected = name[prefix.Length..];
        if (Convert.ToHexStringLower(SHA256.HashData(bytes)) != expected)
            throw new DamagedObjectException(name, "its content does not match its name (altered or truncated).");
        try
        {
            using var plain = BlobCodec.DecodePooled(Key, bytes, Aad(prefix.TrimEnd('/')));
            return parse(plain.Span);
        }
        catch (Exception e) when (e is CryptographicException or InvalidDataException or JsonException)
        {
            throw new DamagedObjectException(name, "it cannot be decrypted or parsed.", e);
        }
    }

    public async Task<List<string>> ListNamesAsync(string prefix, CancellationToken ct)
    {
        var names = new List<string>();
        await foreach (var o in Store.ListAsync(prefix, ct).ConfigureAwait(false)) names.Add(o.Name);
        return names;
    }

    public void Dispose() => Key.Dispose();
}
