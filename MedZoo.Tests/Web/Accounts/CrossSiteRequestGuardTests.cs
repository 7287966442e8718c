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
