using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.FileProviders;
using Portal.Features.Identity;

namespace Portal.Tests.Integration;

/// <summary>The development sign-in exists only in Development, without Entra, for requests from this machine.</summary>
public sealed class LocalSignInTests
{
    private sealed class Environment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;
        public string ApplicationName { get; set; } = "Portal";
        public string ContentRootPath { get; set; } = "/";
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }

    private static HttpContext From(string address) =>
        new DefaultHttpContext { Connection = { RemoteIpAddress = IPAddress.Parse(address) }, Request = { Host = new HostString("127.0.0.1:5080") } };

    [Theory]
    [InlineData("Development", false, "127.0.0.1", true)]
    [InlineData("Development", false, "::1", true)]
    [InlineData("Development", false, "10.0.0.5", false)]
    [InlineData("Development", true, "127.0.0.1", false)]
    [InlineData("Production", false, "127.0.0.1", false)]
    [InlineData("Staging", false, "127.0.0.1", false)]
    public void It_is_allowed_only_in_development_without_Entra_from_this_machine(string environment, bool entra, string address, bool allowed) =>
        Assert.Equal(allowed, new LocalSignIn(new Environment(environment), new SignInMode(entra)).IsAllowed(From(address)));

    private static HttpContext Request(string host, string? header = null, string value = "203.0.113.9")
    {
        var http = From("127.0.0.1");
        http.Request.Host = new HostString(host);
        if (header is not null) http.Request.Headers[header] = value;
        return http;
    }

    [Theory]
    [InlineData("127.0.0.1:5080", null, true)]
    [InlineData("localhost:5080", null, true)]
    [InlineData("[::1]:5080", null, true)]
    [InlineData("127.0.0.1:5080", "X-Forwarded-For", false)]
    [InlineData("127.0.0.1:5080", "Forwarded", false)]
    [InlineData("127.0.0.1:5080", "X-Forwarded-Host", false)]
    [InlineData("127.0.0.1:5080", "X-Real-IP", false)]
    [InlineData("backup.example.com", null, false)]
    [InlineData("10.0.0.5:5080", null, false)]
    [InlineData("localhost.example.com", null, false)]
    [InlineData("", null, false)]
    public void Behind_a_reverse_proxy_on_this_machine_it_is_refused_though_the_peer_is_loopback(string host, string? header, bool allowed) =>
        Assert.Equal(allowed, new LocalSignIn(new Environment("Development"), new SignInMode(false)).IsAllowed(Request(host, header)));

    [Theory]
    [InlineData("/vaults", "/vaults")]
    [InlineData("https://evil.example/", "/")]
    [InlineData("//evil.example/", "/")]
    [InlineData("/\\evil.example", "/")]
    [InlineData(null, "/")]
    public void It_returns_only_to_local_paths(string? returnUrl, string expected) =>
        Assert.Equal(expected, new LocalSignIn(new Environment("Development"), new SignInMode(false)).SafeReturnUrl(returnUrl));
}
