using System.Net;
using System.Text.RegularExpressions;

namespace MedZoo.Tests.Web.Support;

/// <summary>Signs in over HTTP the way a browser does: fetch the form (antiforgery token and cookie), post it.</summary>
public static partial class SignIn
{
    /// <summary>An HttpClient with its own cookie jar that does not follow redirects.</summary>
    public static (HttpClient Client, CookieContainer Cookies) NewClient(Uri baseAddress)
    {
        var cookies = new CookieContainer();
        var handler = new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false };
        return (new HttpClient(handler) { BaseAddress = baseAddress }, cookies);
    }

    /// <summary>The antiforgery token of the form on <paramref name="path"/>.</summary>
    public static async Task<string> FormTokenAsync(HttpClient client, string path)
    {
        var html = await client.GetStringAsync(path);
        var m = TokenPattern().Match(html);
        Assert.True(m.Success, $"no antiforgery token in {path}");
        return WebUtility.HtmlDecode(m.Groups[1].Value);
    }

    /// <summary>Posts the sign-in form; returns the response (302 to the return URL on success).</summary>
    public static async Task<HttpResponseMessage> PostAsync(HttpClient client, string user, string password, string returnUrl = "/")
    {
        var token = await FormTokenAsync(client, "/account/signin");
        return await client.PostAsync("/account/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["UserName"] = user, ["Password"] = password, ["ReturnUrl"] = returnUrl, ["__RequestVerificationToken"] = token,
        }));
    }

    /// <summary>A signed-in client (asserts the sign-in worked).</summary>
    public static async Task<(HttpClient Client, CookieContainer Cookies)> AsAsync(Uri baseAddress, string user, string password)
    {
        var (client, cookies) = NewClient(baseAddress);
        using var response = await PostAsync(client, user, password);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", response.Headers.Location?.OriginalString);
        return (client, cookies);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();
}
