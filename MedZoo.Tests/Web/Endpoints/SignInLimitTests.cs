using System.Net;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Accounts;
using Microsoft.Extensions.DependencyInjection;

namespace MedZoo.Tests.Web.Endpoints;

/// <summary>Sign-in and setup posts are limited per client address and back off per account (answering 429).</summary>
public sealed class SignInLimitTests
{
    [Fact]
    public async Task SignIn_MorePostsThanTheAddressLimit_Gets429()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor());
        app.Settings["MedZoo:Accounts:PostsPerMinutePerAddress"] = "3";
        app.Settings["MedZoo:Accounts:FreeFailures"] = "100";
        var (client, _) = SignIn.NewClient(app.Start());
        for (var i = 0; i < 3; i++)
        {
            using var wrong = await SignIn.PostAsync(client, "someone" + i, "wrong-password");
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }
        using var limited = await SignIn.PostAsync(client, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword);
        Assert.Equal((HttpStatusCode)429, limited.StatusCode);
        Assert.NotNull(limited.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/runs")).StatusCode);
        // Reading pages is not limited.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/account/signin")).StatusCode);
    }

    [Fact]
    public async Task SignIn_RepeatedFailures_BackOffAndRefuseEvenTheRightPasswordUntilTheWaitIsOver()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor());
        app.Settings["MedZoo:Accounts:FreeFailures"] = "2";
        app.Settings["MedZoo:Accounts:FirstBackoff"] = "00:10:00";
        app.Settings["MedZoo:Accounts:MaxBackoff"] = "00:20:00";
        var (client, _) = SignIn.NewClient(app.Start());
        for (var i = 0; i < 3; i++)
        {
            using var wrong = await SignIn.PostAsync(client, MedZooAppFactory.AdminName, "wrong-password");
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }
        using var blocked = await SignIn.PostAsync(client, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword);
        Assert.Equal((HttpStatusCode)429, blocked.StatusCode);
        Assert.InRange(blocked.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 500, 600);
        Assert.Contains("Too many failed sign-ins", await blocked.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/runs")).StatusCode);
    }

    [Fact]
    public async Task Setup_MorePostsThanTheAddressLimit_Gets429()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor(), configureAdmin: false);
        app.Settings["MedZoo:Accounts:PostsPerMinutePerAddress"] = "2";
        var (client, _) = SignIn.NewClient(app.Start());
        var form = await SignIn.FormTokenAsync(client, "/account/setup");
        async Task<HttpStatusCode> Post()
        {
            using var response = await client.PostAsync("/account/setup", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["UserName"] = "guess", ["Password"] = "guess-password", ["Confirm"] = "guess-password", ["Token"] = "guess", ["__RequestVerificationToken"] = form,
            }));
            return response.StatusCode;
        }
        Assert.Equal(HttpStatusCode.Forbidden, await Post());
        Assert.Equal(HttpStatusCode.Forbidden, await Post());
        Assert.Equal((HttpStatusCode)429, await Post());
        Assert.False(app.Services.GetRequiredService<UserService>().HasUsers);
    }
}

/// <summary>Served over HTTPS through a reverse proxy: cookies are Secure and browsers are told to stay on HTTPS.</summary>
public sealed class SecureTransportTests
{
    private const string PublicHost = "medzoo.example.org";

    [Fact]
    public async Task Https_BehindAProxy_CookiesAreSecureAndHstsIsSent()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor());
        app.Settings["ForwardedHeaders_Enabled"] = "true";
        app.Settings["AllowedHosts"] = PublicHost;
        var address = app.Start();
        using var client = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = address };

        HttpRequestMessage Proxied(HttpMethod method, string path)
        {
            var request = new HttpRequestMessage(method, path);
            request.Headers.Host = PublicHost;
            request.Headers.Add("X-Forwarded-Proto", "https");
            return request;
        }

        using var page = await client.SendAsync(Proxied(HttpMethod.Get, "/account/signin"));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.True(page.Headers.Contains("Strict-Transport-Security"), "HSTS header on an HTTPS response");
        var antiforgery = Assert.Single(page.Headers.GetValues("Set-Cookie"));
        Assert.Contains("secure", antiforgery, StringComparison.OrdinalIgnoreCase);

        var html = await page.Content.ReadAsStringAsync();
        var token = WebUtility.HtmlDecode(System.Text.RegularExpressions.Regex.Match(html, "name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"").Groups[1].Value);
        using var post = Proxied(HttpMethod.Post, "/account/signin");
        post.Headers.Add("Cookie", antiforgery.Split(';')[0]);
        post.Content = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["UserName"] = MedZooAppFactory.AdminName, ["Password"] = MedZooAppFactory.AdminPassword, ["ReturnUrl"] = "/", ["__RequestVerificationToken"] = token,
        });
        using var signedIn = await client.SendAsync(post);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        var auth = Assert.Single(signedIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith("medzoo.auth", StringComparison.Ordinal));
        Assert.Contains("secure", auth, StringComparison.OrdinalIgnoreCase);

        // Plain HTTP on the local address: no HSTS (it would lock a local browser out of http://127.0.0.1).
        using var plain = await client.GetAsync("/account/signin");
        Assert.False(plain.Headers.Contains("Strict-Transport-Security"));
        Assert.DoesNotContain("secure", Assert.Single(plain.Headers.GetValues("Set-Cookie")), StringComparison.OrdinalIgnoreCase);
    }
}
