using System.Text;
using Portal.Engine.Operations;
using Portal.Engine.Progress;

namespace Portal.Tests.Engine.Operations;

/// <summary>A stream (a dump tool's stdout) backed up as one file: restored byte for byte, deduplicated day to day, nothing on failure.</summary>
public sealed class StreamBackupTests : IDisposable
{
    private readonly EngineTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    /// <summary>Rows of text like an uncompressed dump: <paramref name="rows"/> lines, those in <paramref name="changed"/> altered.</summary>
    private static byte[] Dump(int rows, ISet<int>? changed = null)
    {
        var text = new StringBuilder();
        for (var i = 0; i < rows; i++)
            text.Append(i).Append('\t').Append(changed?.Contains(i) == true ? "changed" : "customer").Append('\t').Append(i * 7919 % 100_003).Append('\n');
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    [Fact]
    public async Task A_stream_is_restored_byte_for_byte_as_the_one_file_of_its_snapshot()
    {
        var dump = Dump(100_000);
        using var engine = await _kit.InitAsync();
        var result = await engine.BackupStreamAsync(new StreamBackupRequest("postgresql://db:5432/sales", "sales.dump"), new NonSeekable(dump));
        Assert.Equal(dump.Length, result.Bytes);
        var entries = await engine.ListTreeAsync(result.SnapshotId);
        Assert.Equal("sales.dump", Assert.Single(entries).Path);
        using var restored = new MemoryStream();
        await engine.WriteFileAsync(result.SnapshotId, "sales.dump", restored);
        Assert.Equal(dump, restored.ToArray());
        Assert.Equal(["postgresql://db:5432/sales"], (await engine.ListSnapshotsAsync()).Single().Paths);
    }

    [Fact]
    public async Task A_second_backup_with_one_percent_of_rows_changed_adds_a_small_fraction()
    {
        var first = Dump(400_000); // about 9 MB, 140 chunks of 64 KiB on average
        // 1 % of rows, in 4 runs of 1,000 (a day's orders touch neighbours). Changes spread every 100 rows would touch
        // every chunk: dedup saves what the change pattern leaves alone, which the README's figures measure on PostgreSQL.
        var changed = Enumerable.Range(0, 4).SelectMany(run => Enumerable.Range(run * 100_000, 1_000)).ToHashSet();
        using var engine = await _kit.InitAsync();
        var one = await engine.BackupStreamAsync(new StreamBackupRequest("db", "db.dump"), new NonSeekable(first));
        var two = await engine.BackupStreamAsync(new StreamBackupRequest("db", "db.dump"), new NonSeekable(Dump(400_000, changed)));
        // Chunk boundaries depend on the repository's own chunker key, so how many chunks each run of changes straddles
        // varies from one repository to the next (one run here: 11 % of the first backup); a fifth is the bound.
        Assert.True(two.BytesAdded < one.BytesAdded / 5, $"second backup added {two.BytesAdded} bytes, the first {one.BytesAdded}");
    }

    [Fact]
    public async Task A_stream_that_fails_leaves_no_snapshot_and_its_data_is_reused()
    {
        var dump = Dump(100_000);
        using var engine = await _kit.InitAsync();
        await Assert.ThrowsAsync<IOException>(() =>
            engine.BackupStreamAsync(new StreamBackupRequest("db", "db.dump"), new NonSeekable(dump, failAfter: dump.Length / 2)));
        Assert.Empty(await engine.ListSnapshotsAsync());
        var progress = new List<OperationProgress>();
        var result = await engine.BackupStreamAsync(new StreamBackupRequest("db", "db.dump"), new NonSeekable(dump), new SyncProgress(progress));
        Assert.Single(await engine.ListSnapshotsAsync());
        Assert.Contains(progress, p => p.BytesDone == dump.Length);
        Assert.True(result.BlobsAdded > 0);
    }

    [Fact]
    public async Task A_file_name_with_a_separator_is_refused()
    {
        using var engine = await _kit.InitAsync();
        await Assert.ThrowsAsync<ArgumentException>(() => engine.BackupStreamAsync(new StreamBackupRequest("db", "../x"), new MemoryStream()));
    }

    private sealed class SyncProgress(List<OperationProgress> list) : IProgress<OperationProgress>
    {
        public void Report(OperationProgress value)
        {
            lock (list) list.Add(value);
        }
    }

    /// <summary>A pipe-like stream: no length, no seeking, small reads; optionally fails midway like a dump tool that dies.</summary>
    private sealed class NonSeekable(byte[] data, int failAfter = -1) : Stream
    {
        private int position;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (failAfter >= 0 && position >= failAfter)
                throw new IOException("pg_dump exited with code 1");
            var n = Math.Min(Math.Min(count, 65536), data.Length - position);
            Array.Copy(data, position, buffer, offset, n);
            position += n;
            return n;
        }
    }
}
