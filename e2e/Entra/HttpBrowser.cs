using System.Net;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;

namespace Portal.E2E.Entra;

/// <summary>
/// Cookies and forms over HttpClient: enough of a browser to walk the OpenID Connect redirect flow
/// (the provider's login form, then its auto-submitting form_post back to the portal).
/// </summary>
public sealed class HttpBrowser : IDisposable
{
    private readonly HttpClient following;
    private readonly HttpClient notFollowing;

    public HttpBrowser(EntraProvider provider)
    {
        var cookies = new CookieContainer();
        following = new HttpClient(Handler(provider, cookies, follow: true));
        notFollowing = new HttpClient(Handler(provider, cookies, follow: false));
    }

    public Task<Page> GetAsync(string url) => SendAsync(new HttpRequestMessage(HttpMethod.Get, url));

    /// <summary>The response itself, redirects not followed.</summary>
    public Task<HttpResponseMessage> PeekAsync(string url) => notFollowing.GetAsync(url);

    /// <summary>Submits the page's first form matching <paramref name="selector"/>, with <paramref name="values"/> filled in.</summary>
    public Task<Page> SubmitAsync(Page page, string selector = "form", IDictionary<string, string>? values = null)
    {
        var form = page.Document.QuerySelector(selector) as IHtmlFormElement
            ?? throw new InvalidOperationException($"No form '{selector}' on {page.Url}:\n{page.Html[..Math.Min(page.Html.Length, 2000)]}");
        var fields = form.Elements.OfType<IHtmlInputElement>()
            .Where(i => !string.IsNullOrEmpty(i.Name) && i.Type != "submit")
            .ToDictionary(i => i.Name!, i => i.Value);
        foreach (var (name, value) in values ?? new Dictionary<string, string>())
            fields[name] = value;
        var action = new Uri(page.Url, form.GetAttribute("action") ?? "");
        return SendAsync(new HttpRequestMessage(HttpMethod.Post, action) { Content = new FormUrlEncodedContent(fields) });
    }

    public void Dispose()
    {
        following.Dispose();
        notFollowing.Dispose();
    }

    private async Task<Page> SendAsync(HttpRequestMessage request)
    {
        using var response = await following.SendAsync(request);
        var html = await response.Content.ReadAsStringAsync();
        var document = await new HtmlParser().ParseDocumentAsync(html);
        return new Page(response.RequestMessage!.RequestUri!, response.StatusCode, html, document);
    }

    private static HttpClientHandler Handler(EntraProvider provider, CookieContainer cookies, bool follow)
    {
        var handler = provider.CreateTrustingHandler();
        handler.CookieContainer = cookies;
        handler.AllowAutoRedirect = follow;
        return handler;
    }
}

/// <summary>Where a request ended, and what it showed.</summary>
public sealed record Page(Uri Url, HttpStatusCode Status, string Html, IHtmlDocument Document)
{
    public string? TestId(string id) => Document.QuerySelector($"[data-testid='{id}']")?.TextContent.Trim();
}
