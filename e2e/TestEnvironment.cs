using Npgsql;

namespace Portal.E2E;

/// <summary>What ./portal.sh test provides to these tests: the PostgreSQL server and the checkout.</summary>
internal static class TestEnvironment
{
    public static string PostgresServer => Environment.GetEnvironmentVariable("PORTAL_TEST_PG")
        ?? throw new InvalidOperationException("PORTAL_TEST_PG is not set: run the tests with ./portal.sh test.");

    public static string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder(PostgresServer) { Database = database }.ConnectionString;

    public static async Task DropDatabaseAsync(string database)
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(PostgresServer);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Portal.sln")))
                return dir.FullName;
        }

        throw new InvalidOperationException("Portal.sln not found above the test output.");
    }
}
