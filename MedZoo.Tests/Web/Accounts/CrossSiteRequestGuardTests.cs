using MedZoo.Web.Accounts;
using Microsoft.AspNetCore.Http;

namespace MedZoo.Tests.Web.Accounts;

public sealed class CrossSiteRequestGuardTests
{
    private static HttpRequest Request(string method, params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("127.0.0.1", 5000);
        context.Request.Path = "/api/runs/x/stop";
        foreach (var (name, value) in headers) context.Request.Headers[name] = value;
        return context.Request;
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("PATCH")]
    public void Refusal_OtherPortOfTheSameHost_IsRefused(string method)
    {
        Assert.NotNull(CrossSiteRequestGuard.Refusal(Request(method, ("Origin", "http://127.0.0.1:8888"))));
        Assert.NotNull(CrossSiteRequestGuard.Refusal(Request(method, ("Sec-Fetch-Site", "same-site"), ("Origin", "http://127.0.0.1:8888"))));
        Assert.NotNull(CrossSiteRequestGuard.Refusal(Request(method, ("Sec-Fetch-Site", "cross-site"))));
        Assert.NotNull(CrossSiteRequestGuard.Refusal(Request(method, ("Origin", "null"))));
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("DELETE")]
    public void Refusal_OwnOriginOrNoBrowserHeaders_Passes(string method)
    {
        Assert.Null(CrossSiteRequestGuard.Refusal(Request(method)));
        Assert.Null(CrossSiteRequestGuard.Refusal(Request(method, ("Origin", "http://127.0.0.1:5000"))));
        Assert.Null(CrossSiteRequestGuard.Refusal(Request(method, ("Sec-Fetch-Site", "same-origin"), ("Origin", "http://127.0.0.1:5000"))));
    }

    [Fact]
    public void Refusal_SafeMethodsPassButWebSocketHandshakesAreChecked()
    {
        Assert.Null(CrossSiteRequestGuard.Refusal(Request("GET", ("Origin", "http://evil.example"), ("Sec-Fetch-Site", "cross-site"))));
        Assert.NotNull(CrossSiteRequestGuard.Refusal(Request("GET", ("Upgrade", "websocket"), ("Origin", "http://127.0.0.1:8888"))));
        Assert.Null(CrossSiteRequestGuard.Refusal(Request("GET", ("Upgrade", "websocket"), ("Origin", "http://127.0.0.1:5000"))));
    }
}

/// <summary>The guard's one exemption: API requests authenticated by a bearer token (no ambient credentials).</summary>
public sealed class CrossSiteRequestGuardBearerTests
{
    private static HttpRequest Request(string path, params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("127.0.0.1", 5000);
        context.Request.Path = path;
        context.Request.Headers["Sec-Fetch-Site"] = "cross-site";
        context.Request.Headers.Origin = "http://evil.example";
        foreach (var (name, value) in headers) context.Request.Headers[name] = value;
        return context.Request;
    }

    [Fact]
    public void Refusal_ApiRequestWithBearerToken_Passes() =>
        Assert.Null(CrossSiteRequestGuard.Refusal(Request("/api/runs", ("Authorization", "Bearer mzt_x"))));

    [Theory]
    [InlineData("/api/runs", "")]                         // a cookie request: still refused
    [InlineData("/api/runs", "Basic YTpi")]               // browsers attach cached Basic credentials by themselves
    [InlineData("/api/runs", "Bearer")]                   // no token after the scheme
    [InlineData("/account/signout", "Bearer mzt_x")]      // outside the API a token buys nothing
    [InlineData("/hubs/training", "Bearer mzt_x")]
    public void Refusal_CookieOtherSchemeOrOutsideTheApi_IsRefused(string path, string authorization) =>
        Assert.NotNull(CrossSiteRequestGuard.Refusal(authorization.Length == 0 ? Request(path) : Request(path, ("Authorization", authorization))));
}
