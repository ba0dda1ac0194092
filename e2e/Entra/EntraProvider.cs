using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Portal.E2E.Entra;

/// <summary>A user of the local Entra-shaped provider, with the app roles Entra would put in the token.</summary>
public sealed record EntraUser(string Username, string Password, string Name, params string[] Roles)
{
    public string ObjectId { get; } = Guid.NewGuid().ToString();
}

/// <summary>
/// The local OpenID Connect provider shaped like Entra ID (e2e/services/entra-provider.mjs, npm oidc-provider),
/// on HTTPS with a throw-away certificate that only these tests trust.
/// </summary>
public sealed class EntraProvider : IAsyncDisposable
{
    private readonly Process process;
    private readonly string folder;

    private EntraProvider(Process process, string folder, X509Certificate2 certificate, string tenantId, int port)
    {
        this.process = process;
        this.folder = folder;
        Certificate = certificate;
        TenantId = tenantId;
        Port = port;
    }

    /// <summary>Serves the provider and, in the tests, the portal too: HTTPS as in production.</summary>
    public X509Certificate2 Certificate { get; }

    public string TenantId { get; }
    public int Port { get; }
    public string Instance => $"https://localhost:{Port}/";
    public string Issuer => $"https://localhost:{Port}/{TenantId}/v2.0";
    public string ClientId { get; } = Guid.NewGuid().ToString();
    public string ClientSecret { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));

    public static async Task<EntraProvider> StartAsync(IEnumerable<EntraUser> users)
    {
        var folder = Directory.CreateTempSubdirectory("entra-provider-").FullName;
        var certificate = CreateCertificate(folder);
        var tenantId = Guid.NewGuid().ToString();
        await File.WriteAllTextAsync(Path.Combine(folder, "users.json"), JsonSerializer.Serialize(users.Select(u => new
        {
            username = u.Username, password = u.Password, oid = u.ObjectId, name = u.Name, roles = u.Roles,
        })));
        var start = new ProcessStartInfo("node",
        [
            Path.Combine(TestEnvironment.RepositoryRoot(), "e2e", "services", "entra-provider.mjs"),
            "--cert", Path.Combine(folder, "cert.pem"), "--key", Path.Combine(folder, "key.pem"),
            "--tenant", tenantId, "--users", Path.Combine(folder, "users.json"),
        ])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine("entra-provider: " + e.Data); };
        process.BeginErrorReadLine();
        var line = await ReadLineAsync(process, "listening ");
        return new EntraProvider(process, folder, certificate, tenantId, int.Parse(line["listening ".Length..]));
    }

    /// <summary>Registers the portal as the provider's one client, now that its address is known.</summary>
    public async Task RegisterClientAsync(string portalBaseUrl)
    {
        var client = new
        {
            clientId = ClientId,
            clientSecret = ClientSecret,
            redirectUris = new[] { portalBaseUrl + "/signin-oidc" },
            postLogoutRedirectUris = new[] { portalBaseUrl + "/signout-callback-oidc" },
        };
        await process.StandardInput.WriteLineAsync(JsonSerializer.Serialize(client));
        await process.StandardInput.FlushAsync();
        await ReadLineAsync(process, "ready ");
    }

    /// <summary>An HTTP handler that trusts exactly this provider's certificate (and nothing else that is not trusted anyway).</summary>
    public HttpClientHandler CreateTrustingHandler() => new()
    {
        ServerCertificateCustomValidationCallback = (_, presented, _, errors) =>
            errors == System.Net.Security.SslPolicyErrors.None
            || (presented is not null && presented.RawData.AsSpan().SequenceEqual(Certificate.RawData)),
    };

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
        Certificate.Dispose();
        Directory.Delete(folder, recursive: true);
    }

    private static async Task<string> ReadLineAsync(Process process, string prefix)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal))
                return line;
        }

        throw new InvalidOperationException($"The Entra-shaped provider exited before printing \"{prefix}\" (exit code {process.ExitCode}).");
    }

    private static X509Certificate2 CreateCertificate(string folder)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(Path.Combine(folder, "cert.pem"), certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(folder, "key.pem"), rsa.ExportPkcs8PrivateKeyPem());
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }
}
