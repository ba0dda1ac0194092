using System.IO.Compression;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Portal.Engine;
using Portal.Engine.Operations;
using Portal.Features.Common;
using Portal.Features.Jobs;
using Portal.Features.Protection;
using Portal.Features.Audit;
using Portal.Features.Identity;

namespace Portal.Features.Restore;

/// <summary>
/// Downloads of a recovery point's files: one file as it is, or a folder (up to Restore:MaxZipBytes) as a zip,
/// decrypted on the fly and streamed to the browser, never staged on disk. Each download is a job and an audit
/// entry, like a restore.
/// </summary>
public static class RestoreDownloads
{
    public const string Path = "/restore/download";

    public static string Href(Guid itemId, Guid pointId, string path, string? region = null) =>
        $"{Path}?item={itemId}&point={pointId}&path={Uri.EscapeDataString(path)}" + (region is null ? "" : $"&region={Uri.EscapeDataString(region)}");

    public static IEndpointRouteBuilder MapPortalRestore(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(Path, async (HttpContext http, RestoreService restores, JobService jobs, AuditLog audit, IOptions<RestoreOptions> options,
            IOptions<JobsOptions> jobOptions) =>
        {
            ((IHostEnvironmentAuthenticationStateProvider)http.RequestServices.GetRequiredService<AuthenticationStateProvider>())
                .SetAuthenticationState(Task.FromResult(new AuthenticationState(http.User)));
            if (!Guid.TryParse(http.Request.Query["item"], out var itemId) || !Guid.TryParse(http.Request.Query["point"], out var pointId)
                || http.Request.Query["path"].ToString() is not { Length: > 0 } path)
                return Results.Problem("Give item, point and path: open the download from the restore wizard.", statusCode: 400);
            var region = http.Request.Query["region"].ToString() is { Length: > 0 } r ? r : null;
            try
            {
                return await DownloadAsync(http, restores, jobs, audit, options.Value, jobOptions.Value.HeartbeatInterval, itemId, pointId, path, region);
            }
            catch (PortalAccessDeniedException e)
            {
                return Results.Problem(e.Message, statusCode: 403);
            }
            catch (Exception e) when (e is PortalValidationException or PortalNotFoundException or PortalConflictException)
            {
                return Results.Problem(e.Message, statusCode: e is PortalNotFoundException ? 404 : 409);
            }
        }).RequireAuthorization(Identity.PortalPolicies.View);
        return endpoints;
    }

    private static async Task<IResult> DownloadAsync(HttpContext http, RestoreService restores, JobService jobs, AuditLog audit, RestoreOptions options,
        TimeSpan heartbeatEvery, Guid itemId, Guid pointId, string path, string? region)
    {
        var user = http.User;
        Access.Require(user, "download files", RestoreService.Restorers);
        var (point, vault, item) = await restores.LoadPointAsync(itemId, pointId, http.RequestAborted);
        using var engine = await restores.OpenAsync(item, vault, region, http.RequestAborted);
        var trimmed = path.Trim().Trim('/');
        IReadOnlyList<TreeEntry> entries;
        try
        {
            entries = await engine.ListTreeAsync(point.SnapshotId, trimmed, cancellationToken: http.RequestAborted);
        }
        catch (Exception e) when (e is RepositoryException or ArgumentException)
        {
            throw new PortalNotFoundException($"{path} is not in this recovery point.");
        }

        // The root ("/", or nothing) lists the whole point with no entry of its own: a zip named after the item and
        // the point, each entry under it by its full path (not after the first entry, minus a first character).
        var root = trimmed.Length == 0;
        var top = root ? null : entries[0];
        var files = entries.Where(e => e.Type == EntryType.File).ToList();
        var bytes = files.Sum(f => f.Size);
        var folder = root || top!.Type == EntryType.Directory;
        var shown = root ? "/ (the whole recovery point)" : trimmed;
        if (top?.Type == EntryType.Symlink)
            throw new PortalValidationException("Path", $"{path} is a symbolic link (to {top.LinkTarget}); restore it instead of downloading it.");
        if (folder && bytes > options.MaxZipBytes)
            throw new PortalValidationException("Path",
                $"{path} holds {RestoreService.Format(bytes)}; folders download as a zip up to {RestoreService.Format(options.MaxZipBytes)}. Restore it to a folder instead.");

        var name = root ? RootName(item.Name, point.CreatedAt) : top!.Path[(top.Path.LastIndexOf('/') + 1)..];
        var resource = ProtectionService.Resource(vault.Name, item.Name);
        await audit.RecordAsync(user, AuditActions.RestoreDownload, resource, AuditOutcome.Succeeded,
            $"point {point.SnapshotId[..8]} ({point.CreatedAt:yyyy-MM-dd HH:mm} UTC): {shown} ({files.Count} file(s), {RestoreService.Format(bytes)}) downloaded to the browser");
        var job = await jobs.StartAsync(JobKind.Restore, vault.Id, vault.Name, item.Id, $"{item.Name}: download {shown}", user.DisplayName(), CancellationToken.None);
        var body = new CountingStream(http.Response.Body);
        // A long download reports (and so heartbeats) as pipeline jobs do: the sweep fails a job silent for Jobs:LeaseTimeout.
        await using var heartbeat = new Timer(_ => _ = ReportQuietlyAsync(jobs, job.Id, body, bytes, files.Count), null, heartbeatEvery, heartbeatEvery);
        try
        {
            var disposition = new Microsoft.Net.Http.Headers.ContentDispositionHeaderValue("attachment");
            disposition.SetHttpFileName(folder ? name + ".zip" : name); // filename and filename* (UTF-8) for any name
            http.Response.Headers.ContentDisposition = disposition.ToString();
            if (!folder)
            {
                http.Response.ContentType = "application/octet-stream";
                http.Response.ContentLength = top!.Size;
                await engine.WriteFileAsync(point.SnapshotId, trimmed, body, http.RequestAborted);
            }
            else
            {
                http.Response.ContentType = "application/zip";
                http.Features.Get<IHttpBodyControlFeature>()!.AllowSynchronousIO = true; // the zip's central directory is written on dispose
                await using var archive = new ZipArchive(body, ZipArchiveMode.Create, leaveOpen: true);
                foreach (var entry in entries.Where(e => e.Type is EntryType.File or EntryType.Directory))
                {
                    var relative = root ? entry.Path : entry.Path.Length == trimmed.Length ? "" : entry.Path[(trimmed.Length + 1)..];
                    if (!SafeZipPath(relative))
                        continue; // a name no backup of ours makes ("..", a backslash): never let it climb out of the user's unzip folder
                    if (entry.Type == EntryType.Directory)
                    {
                        if (relative.Length > 0) archive.CreateEntry(name + "/" + relative + "/");
                        continue;
                    }

                    var zipEntry = archive.CreateEntry(name + "/" + relative, CompressionLevel.Fastest);
                    zipEntry.LastWriteTime = entry.ModifiedUtc;
                    await using var stream = zipEntry.Open();
                    await engine.WriteFileAsync(point.SnapshotId, entry.Path, stream, http.RequestAborted);
                }
            }

            await jobs.ReportAsync(job.Id, new JobProgressReport("Downloaded", bytes, bytes, files.Count, files.Count), CancellationToken.None);
            await jobs.FinishAsync(job.Id, JobStatus.Completed, $"Downloaded {shown} ({files.Count} file(s), {RestoreService.Format(bytes)}).", CancellationToken.None);
            return Results.Empty;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            await jobs.FinishAsync(job.Id, JobStatus.Cancelled, "The browser stopped the download before it finished.", CancellationToken.None);
            return Results.Empty;
        }
        catch (Exception e) when (e is RepositoryException or Portal.Engine.Storage.StoreException)
        {
            await jobs.FinishAsync(job.Id, JobStatus.Failed, $"The download failed: {e.Message} Run a check of the vault, or choose another point.", CancellationToken.None);
            throw new PortalConflictException($"The download failed: {e.Message}");
        }
    }

    /// <summary>The zip of a whole point: "Contracts 2026-12-07 1030", without characters a file name cannot hold.</summary>
    internal static string RootName(string item, DateTime pointCreatedAt)
    {
        var safe = new string([.. item.Select(c => c is '/' or '\\' or ':' || char.IsControl(c) ? '_' : c)]).Trim().Trim('.');
        return $"{(safe.Length == 0 ? "recovery point" : safe)} {pointCreatedAt:yyyy-MM-dd HHmm}";
    }

    private static bool SafeZipPath(string relative) =>
        relative.Length == 0 || relative.Split('/').All(part => part.Length > 0 && part != "." && part != ".." && !part.Contains('\\') && !part.Contains('\0'));

    private static async Task ReportQuietlyAsync(JobService jobs, Guid jobId, CountingStream body, long bytes, int files)
    {
        try
        {
            await jobs.ReportAsync(jobId, new JobProgressReport("Downloading", Math.Min(body.Written, bytes), bytes, 0, files));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // progress only; the download goes on
        }
    }

    /// <summary>The response body, counting what was written (zip overhead included).</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        private long written;

        public long Written => Interlocked.Read(ref written);
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => Written; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            Interlocked.Add(ref written, count);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken);
            Interlocked.Add(ref written, buffer.Length);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}
