using System.Net;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;

namespace Portal.E2E;

/// <summary>The development sign-in posted as a browser would (with its antiforgery token), for tests that speak HTTP.</summary>
public static class HttpSignIn
{
    /// <summary>
    /// Signs in as <paramref name="name"/> and returns the session cookies: a Backup.Contributor unless
    /// <paramref name="roleFields"/> names the form's role fields to tick instead (e.g. "Input.Reader", "Input.RestoreOperator").
    /// </summary>
    public static async Task<CookieContainer> CookiesAsync(string baseUrl, string name, params string[] roleFields)
    {
        var cookies = new CookieContainer();
        using var client = new HttpClient(new HttpClientHandler { CookieContainer = cookies });
        var html = await client.GetStringAsync(baseUrl + "/account/dev-signin");
        var form = (IHtmlFormElement)(await new HtmlParser().ParseDocumentAsync(html)).QuerySelector("form")!;
        var fields = form.Elements.OfType<IHtmlInputElement>()
            .Where(i => !string.IsNullOrEmpty(i.Name)
                        && (i.Type != "checkbox" || (roleFields.Length == 0 ? i.IsChecked : roleFields.Contains(i.Name))))
            .Select(i => new KeyValuePair<string, string>(i.Name!, i.Name == "Input.Name" ? name : i.Type == "checkbox" ? "true" : i.Value));
        using var response = await client.PostAsync(baseUrl + "/account/dev-signin", new FormUrlEncodedContent(fields));
        response.EnsureSuccessStatusCode();
        Assert.Contains(cookies.GetCookies(new Uri(baseUrl)), c => c.Name == "portal.auth");
        return cookies;
    }

    /// <summary>A client with those cookies that does not follow redirects (a refusal is a redirect to the access-denied page).</summary>
    public static HttpClient Client(string baseUrl, CookieContainer? cookies) =>
        new(new HttpClientHandler { CookieContainer = cookies ?? new CookieContainer(), UseCookies = true, AllowAutoRedirect = false }) { BaseAddress = new Uri(baseUrl) };
}
