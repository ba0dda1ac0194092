using Npgsql;

namespace Portal.Tests.Infrastructure;

/// <summary>
/// A database to protect on the test PostgreSQL server (PORTAL_TEST_PG): an <c>orders</c> table of generated rows, with
/// the count and an md5 checksum of its rows to compare after a restore. Dropped on dispose, with any database
/// restored from it that is registered through <see cref="Also"/>.
/// </summary>
public sealed class SampleDatabase : IAsyncDisposable
{
    private readonly NpgsqlConnectionStringBuilder server = new(Environment.GetEnvironmentVariable("PORTAL_TEST_PG")
        ?? throw new InvalidOperationException("PORTAL_TEST_PG is not set: run the tests with ./portal.sh test."));
    private readonly List<string> names = [];

    public SampleDatabase() => names.Add(Name = "shop_" + Guid.NewGuid().ToString("N")[..10]);

    public string Name { get; }
    public string Host => server.Host!;
    public int Port => server.Port;
    public string User => server.Username!;

    /// <summary>Another database name on the same server that is dropped with this one.</summary>
    public string Also(string prefix)
    {
        var name = prefix + "_" + Guid.NewGuid().ToString("N")[..8];
        names.Add(name);
        return name;
    }

    public string ConnectionString(string? database = null) => new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = database ?? Name, Pooling = false }.ConnectionString;

    public async Task CreateAsync(int rows)
    {
        await ExecuteAsync($"CREATE DATABASE \"{Name}\"", "postgres");
        await ExecuteAsync($"""
            CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL, amount numeric(12,2) NOT NULL, note text NOT NULL);
            INSERT INTO orders SELECT i, 'customer ' || (i % 977), (i * 7919 % 100003) / 100.0, md5(i::text) || ' delivered to ' || (i % 13) || ' Main Street'
              FROM generate_series(1, {rows}) AS i;
            """);
    }

    public Task ExecuteAsync(string sql, string? database = null) => ScalarAsync<object?>(sql, database);

    public async Task<T> ScalarAsync<T>(string sql, string? database = null)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return value is DBNull ? default! : (T)value!;
    }

    /// <summary>Row count and an md5 over every row in key order: equal only when the table's content is equal.</summary>
    public async Task<(long Rows, string Checksum)> FingerprintAsync(string? database = null) =>
        (await ScalarAsync<long>("SELECT count(*) FROM orders", database),
         await ScalarAsync<string>("SELECT md5(string_agg(o::text, ',' ORDER BY id)) FROM orders o", database));

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        foreach (var name in names)
            await ExecuteAsync($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", "postgres");
    }
}
