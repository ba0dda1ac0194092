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

    private static HttpContext From(string address) => new DefaultHttpContext { Connection = { RemoteIpAddress = IPAddress.Parse(address) } };

    [Theory]
    [InlineData("Development", false, "127.0.0.1", true)]
    [InlineData("Development", false, "::1", true)]
    [InlineData("Development", false, "10.0.0.5", false)]
    [InlineData("Development", true, "127.0.0.1", false)]
    [InlineData("Production", false, "127.0.0.1", false)]
    [InlineData("Staging", false, "127.0.0.1", false)]
    public void It_is_allowed_only_in_development_without_Entra_from_this_machine(string environment, bool entra, string address, bool allowed) =>
        Assert.Equal(allowed, new LocalSignIn(new Environment(environment), new SignInMode(entra)).IsAllowed(From(address)));

    [Theory]
    [InlineData("/vaults", "/vaults")]
    [InlineData("https://evil.example/", "/")]
    [InlineData("//evil.example/", "/")]
    [InlineData("/\\evil.example", "/")]
    [InlineData(null, "/")]
    public void It_returns_only_to_local_paths(string? returnUrl, string expected) =>
        Assert.Equal(expected, new LocalSignIn(new Environment("Development"), new SignInMode(false)).SafeReturnUrl(returnUrl));
}
