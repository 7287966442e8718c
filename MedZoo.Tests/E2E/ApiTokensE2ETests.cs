using System.Net;
using System.Net.Http.Headers;
using MedZoo.Tests.Cluster;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Accounts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace MedZoo.Tests.E2E;

/// <summary>The API tokens page: a user creates a token, sees it once, uses it, and revokes it.</summary>
public class ApiTokensE2ETests : E2ETest
{
    [SkippableFact]
    public async Task TokensPage_CreateUseAndRevoke_TokenWorksUntilRevokedAndIsShownOnce()
    {
        BrowserSession.RequireChromium();
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = NewApp(folder.Path, new ScriptedRunExecutor());
        var address = app.Start();
        app.Services.GetRequiredService<UserService>().Create("vera", "vera-password", Roles.Viewer);
        await using var browser = await BrowserSession.LaunchAsync();
        var page = await browser.NewPageAsync(address);
        await BrowserSession.SignInAsync(page, "vera", "vera-password");

        await page.ClickAsync("#nav-tokens");
        await page.WaitForSelectorAsync("#no-tokens");
        await page.FillAsync("#token-name", "notebook");
        await page.ClickAsync("#create-token");
        var secret = (await page.InnerTextAsync("#new-token")).Trim();

        Assert.StartsWith(ApiTokenService.Prefix, secret);
        using var client = new HttpClient { BaseAddress = address };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/runs")).StatusCode);
        var token = Assert.Single(app.Services.GetRequiredService<IApiTokenStore>().ListForUser("vera"));
        Assert.Equal("notebook", token.Name);

        await BrowserSession.GotoAsync(page, "/account/tokens"); // shown once: not after a reload
        await page.WaitForSelectorAsync($"#token-{token.Id}");
        Assert.Equal(0, await page.Locator("#new-token").CountAsync());
        Assert.DoesNotContain(secret, await page.ContentAsync());
        Assert.Contains(token.Hint, await page.InnerTextAsync($"#token-{token.Id}"));

        await page.ClickAsync($"#revoke-{token.Id}");
        await page.WaitForSelectorAsync("#no-tokens");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/runs")).StatusCode);
    }
}

/// <summary>The same tests with the dashboard as a cluster web node whose runs a worker trains.</summary>
[Collection(ClusterHosts.Collection)]
public sealed class ApiTokensE2ETests_Cluster(ClusterHosts cluster) : ApiTokensE2ETests
{
    protected override IDashboardHosts Hosts => cluster;
}
