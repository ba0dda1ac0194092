using System.IO.Compression;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Portal.Data;
using Portal.Features.Audit;
using Portal.Features.Identity;
using Portal.Features.Jobs;
using Portal.Features.Policies;
using Portal.Features.Protection;
using Portal.Features.Vaults;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E;

/// <summary>What probing the portal as an attacker found (issue 25), each probed again over HTTP against the real portal.</summary>
public sealed class SecurityProbeTests
{
    private const string Passphrase = "correct horse battery staple";

    /// <summary>A protected share with one recovery point, made through the portal's own services: the item and point ids.</summary>
    private static async Task<(Guid Item, Guid Point)> ProtectedShareAsync(PortalApp app)
    {
        var source = Path.Combine(app.SourceRoot, "share");
        Directory.CreateDirectory(Path.Combine(source, "adduser", "examples"));
        File.WriteAllText(Path.Combine(source, "adduser", "NEWS.Debian"), "news");
        File.WriteAllText(Path.Combine(source, "adduser", "examples", "adduser.local.conf"), "conf");
        File.WriteAllText(Path.Combine(source, "notes.txt"), "plain notes");
        using var scope = app.Services.CreateScope();
        var principal = scope.ServiceProvider.GetRequiredService<LocalSignIn>().CreatePrincipal("Setup", [PortalRoles.Contributor]);
        ((IHostEnvironmentAuthenticationStateProvider)scope.ServiceProvider.GetRequiredService<AuthenticationStateProvider>())
            .SetAuthenticationState(Task.FromResult(new AuthenticationState(principal)));
        var vault = await scope.ServiceProvider.GetRequiredService<VaultService>().CreateAsync(new CreateVaultRequest("finance", "east"));
        var policy = (await scope.ServiceProvider.GetRequiredService<PolicyService>().ListAsync(vault.Id)).Single();
        var protection = scope.ServiceProvider.GetRequiredService<ProtectionService>();
        var item = await protection.ConfigureAsync(new ConfigureProtectionRequest(vault.Id, policy.Id, "share", source, null, null, Passphrase, Passphrase));
        var job = await protection.BackUpNowAsync(item.Item.Id, DateTime.UtcNow.AddDays(30));
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task OnChanged(Job j)
        {
            if (j.Status.IsFinished()) finished.TrySetResult();
            return Task.CompletedTask;
        }

        using (app.Services.GetRequiredService<JobNotifier>().Subscribe(JobTopic.OfJob(job.Id), OnChanged))
        {
            if ((await scope.ServiceProvider.GetRequiredService<JobQueries>().GetAsync(job.Id))?.Status.IsFinished() != true)
                await finished.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }

        var point = Assert.Single((await protection.GetAsync(item.Item.Id))!.RecoveryPoints);
        return (item.Item.Id, point.Id);
    }

    [Fact]
    public async Task Downloading_the_root_of_a_point_zips_every_entry_by_its_full_name_under_the_item_and_says_so_in_the_job_and_audit()
    {
        await using var app = new PortalApp();
        var (item, point) = await ProtectedShareAsync(app);
        await using var browser = await Browser.StartAsync("security-root-zip");
        await browser.SignInLocallyAsync(app.BaseUrl, "Helen", "/", "#role-restore-operator");
        await Expect(browser.Page).ToHaveURLAsync(app.BaseUrl + "/restore"); // help-desk starts at Restore files (issue 25)

        var response = await browser.Page.APIRequest.GetAsync($"{app.BaseUrl}/restore/download?item={item}&point={point}&path=%2F");

        Assert.Equal(200, response.Status);
        Assert.Matches(@"filename=""?share \d{4}-\d\d-\d\d \d{4}\.zip", response.Headers["content-disposition"]);
        using var zip = new ZipArchive(new MemoryStream(await response.BodyAsync()));
        // One folder named as the zip, holding the point's entries by their full names (not "dduser/NEWS.Debian").
        var top = zip.Entries[0].FullName[..(zip.Entries[0].FullName.IndexOf('/') + 1)];
        Assert.Matches(@"^share \d{4}-\d\d-\d\d \d{4}/$", top);
        Assert.Equal(["adduser/", "adduser/NEWS.Debian", "adduser/examples/", "adduser/examples/adduser.local.conf", "notes.txt"],
            zip.Entries.Select(e => e.FullName.StartsWith(top, StringComparison.Ordinal) ? e.FullName[top.Length..] : e.FullName).Order(StringComparer.Ordinal));
        using (var reader = new StreamReader(zip.GetEntry(top + "adduser/NEWS.Debian")!.Open()))
            Assert.Equal("news", await reader.ReadToEndAsync());

        await using var db = await app.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        var job = await db.Jobs.SingleAsync(j => j.Kind == JobKind.Restore);
        Assert.Equal("share: download / (the whole recovery point)", job.Subject);
        var audit = await db.AuditEntries.SingleAsync(a => a.Action == AuditActions.RestoreDownload);
        Assert.Contains(": / (the whole recovery point) (3 file(s)", audit.Detail);
    }

    [Fact]
    public async Task The_development_sign_in_refuses_a_request_that_came_through_a_proxy_or_by_another_host_name()
    {
        await using var app = new PortalApp();
        using var http = new HttpClient { BaseAddress = new Uri(app.BaseUrl) };

        Assert.Contains("dev-signin-submit", await http.GetStringAsync("/account/dev-signin"));
        foreach (var (header, value) in new[] { ("X-Forwarded-For", "203.0.113.9"), ("Forwarded", "for=203.0.113.9"), ("Host", "backup.example.com") })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/account/dev-signin");
            if (header == "Host") request.Headers.Host = value;
            else request.Headers.Add(header, value);
            var page = await (await http.SendAsync(request)).Content.ReadAsStringAsync();
            Assert.Contains("dev-signin-refused", page);
            Assert.DoesNotContain("dev-signin-submit", page);
        }
    }

    [Fact]
    public async Task Sign_out_refuses_a_post_without_the_antiforgery_token_and_the_sign_out_button_still_signs_out()
    {
        await using var app = new PortalApp();
        await using var browser = await Browser.StartAsync("security-signout");
        var page = browser.Page;
        await browser.SignInLocallyAsync(app.BaseUrl, "Erin", "/");
        await Expect(page).ToHaveURLAsync(app.BaseUrl + "/");

        // A cross-site form post: the browser sends the cookie, not the token. It must not sign the user out.
        var forged = await page.APIRequest.PostAsync(app.BaseUrl + "/account/signout", new()
        {
            Headers = new Dictionary<string, string> { ["Content-Type"] = "application/x-www-form-urlencoded" },
            DataString = "x=1",
        });
        Assert.Equal(400, forged.Status);
        await page.ReloadAsync();
        await Expect(page.GetByTestId("user-name")).ToHaveTextAsync("Erin");

        await browser.WaitInteractiveAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/account/dev-signin"));
    }

    /// <summary>
    /// Issue 25: access control held under probing (anonymous, Backup.Reader and Restore.Operator against every endpoint,
    /// another point's id in a download, traversal in its path): keep it so. Each endpoint answers each role as the roles
    /// table says: data, or a refusal that gives nothing away.
    /// </summary>
    [Fact]
    public async Task Anonymous_readers_and_help_desk_get_only_what_their_role_allows_from_every_endpoint()
    {
        await using var app = new PortalApp();
        var (item, point) = await ProtectedShareAsync(app);
        var download = $"/restore/download?item={item}&point={point}&path=notes.txt";
        var evidence = $"/drills/evidence.csv?item={item}";
        string[] endpoints = [download, "/reports/jobs.csv", "/reports/compliance.csv", evidence, "/audit/export.csv", "/", "/reports", "/audit", "/approvals"];

        using (var anonymous = HttpSignIn.Client(app.BaseUrl, null))
            foreach (var path in endpoints)
            {
                using var response = await anonymous.GetAsync(path);
                Assert.True(response.StatusCode == System.Net.HttpStatusCode.Redirect && response.Headers.Location!.ToString().Contains("/account/dev-signin"),
                    $"anonymous GET {path}: {(int)response.StatusCode} {response.Headers.Location}");
            }

        // Backup.Reader reads reports, evidence and the audit log, and may not download files; Restore.Operator downloads
        // and reads reports and evidence, not the audit log.
        var allowed = new Dictionary<string, string[]>
        {
            ["Input.Reader"] = ["/reports/jobs.csv", "/reports/compliance.csv", evidence, "/audit/export.csv", "/", "/reports", "/audit"],
            ["Input.RestoreOperator"] = [download, "/reports/jobs.csv", "/reports/compliance.csv", evidence, "/reports"],
        };
        foreach (var (role, mayGet) in allowed)
        {
            using var client = HttpSignIn.Client(app.BaseUrl, await HttpSignIn.CookiesAsync(app.BaseUrl, "Probe " + role, role));
            foreach (var path in new[] { download, "/reports/jobs.csv", "/reports/compliance.csv", evidence, "/audit/export.csv", "/reports", "/audit" })
            {
                using var response = await client.GetAsync(path);
                var body = await response.Content.ReadAsStringAsync();
                if (mayGet.Contains(path))
                    Assert.True(response.StatusCode == System.Net.HttpStatusCode.OK, $"{role} GET {path}: {(int)response.StatusCode} {response.Headers.Location}");
                else
                {
                    Assert.True(response.StatusCode == System.Net.HttpStatusCode.Forbidden
                                || (response.StatusCode == System.Net.HttpStatusCode.Redirect && response.Headers.Location!.ToString().Contains("/account/access-denied")),
                        $"{role} GET {path}: {(int)response.StatusCode} {response.Headers.Location}");
                    Assert.DoesNotContain("plain notes", body);
                }
            }

            if (role != "Input.RestoreOperator")
                continue;
            // The help desk's own download, probed: another point's id, and paths that climb out of the point.
            using (var swapped = await client.GetAsync($"/restore/download?item={item}&point={Guid.NewGuid()}&path=notes.txt"))
                Assert.Equal(System.Net.HttpStatusCode.NotFound, swapped.StatusCode);
            foreach (var climb in new[] { "../../../../etc/passwd", "notes.txt/../../../etc/passwd", "/../etc" })
            {
                using var response = await client.GetAsync($"/restore/download?item={item}&point={point}&path={Uri.EscapeDataString(climb)}");
                var body = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode is System.Net.HttpStatusCode.NotFound or System.Net.HttpStatusCode.BadRequest or System.Net.HttpStatusCode.Conflict,
                    $"path={climb}: {(int)response.StatusCode}");
                Assert.DoesNotContain("root:", body);
            }
        }
    }
}
