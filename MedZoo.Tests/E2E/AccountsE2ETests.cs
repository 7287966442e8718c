using MedZoo.Tests.Cluster;
using MedZoo.Tests.Web.Endpoints;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Accounts;
using MedZoo.Web.Runs;
using Microsoft.Extensions.DependencyInjection;
using static MedZoo.Tests.Web.Support.AppTestHelpers;

namespace MedZoo.Tests.E2E;

/// <summary>First-run setup, the Users page and cross-site attacks, in a real browser.</summary>
public class AccountsE2ETests : E2ETest
{
    [SkippableFact]
    public async Task FirstRun_FreshInstall_GoesToSetupWhichNeedsThePrintedLinkKeepsTheNameOnErrorAndRecordsTheSignIn()
    {
        BrowserSession.RequireChromium();
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = NewApp(folder.Path, new ScriptedRunExecutor(), configureAdmin: false);
        var address = app.Start();
        await using var browser = await BrowserSession.LaunchAsync();
        var page = await browser.NewPageAsync(address);

        // The front door leads to setup (not to a sign-in form nobody can use), which asks for the token.
        await page.GotoAsync("/");
        await page.WaitForSelectorAsync("#setup-token-needed");
        Assert.Contains("/account/setup", page.Url);

        await page.GotoAsync("/account/setup?token=" + FirstRunSetupTests.ReadToken(folder.Path));
        await page.WaitForSelectorAsync("#setup-form");
        Assert.Equal(0, await page.Locator("#token").CountAsync()); // the link carries it
        await page.FillAsync("#username", "boss");
        await page.FillAsync("#password", "boss-password");
        await page.FillAsync("#confirm", "not-the-same");
        await page.ClickAsync("#setup-submit");
        await page.WaitForSelectorAsync("#setup-error:has-text('The two passwords differ.')");
        Assert.DoesNotContain("error", page.Url);
        Assert.Equal("boss", await page.InputValueAsync("#username"));

        await page.FillAsync("#password", "boss-password");
        await page.FillAsync("#confirm", "boss-password");
        await page.ClickAsync("#setup-submit");
        await BrowserSession.WaitInteractiveAsync(page);
        await BrowserSession.GotoAsync(page, "/admin/users");
        var row = page.Locator("#users-table tr:has-text('boss')");
        await row.WaitForAsync();
        Assert.DoesNotContain("never", await row.InnerTextAsync());
    }

    [SkippableFact]
    public async Task Users_AddTwoInARow_SecondAddKeepsTheViewerRoleAndErrorsReadAsSentences()
    {
        BrowserSession.RequireChromium();
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = NewApp(folder.Path, new ScriptedRunExecutor());
        var address = app.Start();
        await using var browser = await BrowserSession.LaunchAsync();
        var page = await browser.NewPageAsync(address);
        await BrowserSession.SignInAsync(page, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword, "/admin/users");
        await page.WaitForSelectorAsync("#users-table");

        async Task AddAsync(string name, string expectedNotice)
        {
            await page.FillAsync("#new-user-name", name);
            await page.PressAsync("#new-user-name", "Tab");
            await page.FillAsync("#new-user-password", name + "-password");
            await page.PressAsync("#new-user-password", "Tab");
            await page.Locator("#add-user:not([disabled])").ClickAsync();
            await page.WaitForSelectorAsync($".mud-snackbar:has-text(\"{expectedNotice}\")");
        }

        await AddAsync("vera", "Added vera (viewer)");
        await AddAsync("walt", "Added walt (viewer)");
        var users = app.Services.GetRequiredService<UserService>();
        Assert.Equal(Roles.Viewer, users.Find("walt")!.Role);

        await AddAsync("vera", "user 'vera' already exists");
        var notices = await page.Locator(".mud-snackbar").AllInnerTextsAsync();
        Assert.DoesNotContain(notices, n => n.Contains("Parameter", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task OpenPage_PasswordResetElsewhere_SendsTheTabToSignInWithinTheRevalidationInterval()
    {
        BrowserSession.RequireChromium();
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = NewApp(folder.Path, new ScriptedRunExecutor());
        app.Settings["MedZoo:Accounts:RevalidationInterval"] = "00:00:00.500";
        var address = app.Start();
        var users = app.Services.GetRequiredService<UserService>();
        users.Create("watcher", "watcher-password", Roles.Viewer);
        await using var browser = await BrowserSession.LaunchAsync();
        var page = await browser.NewPageAsync(address);
        await BrowserSession.SignInAsync(page, "watcher", "watcher-password", "/runs");
        await page.WaitForSelectorAsync("#current-user");

        // The tab stays open and does nothing: its circuit must notice the new password by itself.
        users.SetPassword("watcher", "a-new-password");
        await page.WaitForSelectorAsync("#signin-form");
        Assert.Equal(0, await page.Locator("#current-user").CountAsync());
    }

    [SkippableFact]
    public async Task CrossSite_PageOnAnotherPortOfTheHost_CannotStopARunWithTheSignedInOperatorsCookie()
    {
        BrowserSession.RequireChromium();
        using var folder = MedZooAppFactory.NewDataFolder();
        var gate = new SemaphoreSlim(0);
        await using var app = NewApp(folder.Path, new ScriptedRunExecutor { StepGate = gate });
        var address = app.Start();
        var run = app.Service().Start(Admin, "target", ScriptedRunExecutor.Json(epochs: 1, stepsPerEpoch: 100));
        await app.WaitForStatusAsync(run.Id, RunStatus.Running);

        await using var browser = await BrowserSession.LaunchAsync();
        var page = await browser.NewPageAsync(address);
        await BrowserSession.SignInAsync(page, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword);

        // Another port of the same host is the same site: SameSite=Strict still sends the cookie from there.
        var app0 = address.ToString().TrimEnd('/');
        var hub = $"ws://127.0.0.1:{address.Port}/hubs/training";
        var html = $$"""
            <html><head><title>waiting</title></head><body>
            <form id="f" method="post" action="{{app0}}/api/runs/{{run.Id}}/stop"></form>
            <script>
              const ws = new WebSocket("{{hub}}");
              ws.onopen = () => {
                ws.send('{"protocol":"json","version":1}\u001e');
                ws.send(JSON.stringify({ type: 1, invocationId: "1", target: "Stop", arguments: ["{{run.Id}}"] }) + '\u001e');
              };
              ws.onmessage = m => {  if (m.data.includes('"invocationId":"1"')) document.title = 'ws-answered'; };
              ws.onclose = () => { if (document.title === 'waiting') document.title = 'ws-refused'; };
            </script></body></html>
            """;
        // A real server on the loopback address (a page the browser fetched from nowhere would be a public
        // page, which Chromium's local-network checks stop before the server could refuse it).
        await using var evil = await LoopbackPage.StartAsync(html);
        await page.GotoAsync(evil.Address + "prize");
        await BrowserSession.WaitAsync(page, "() => document.title !== 'waiting'");
        Assert.True(await page.TitleAsync() == "ws-refused", await BrowserSession.DescribeAsync(page));
        Assert.Equal(RunStatus.Running, app.Runs().Get(run.Id)!.Status);

        var response = await page.RunAndWaitForResponseAsync(
            () => page.EvaluateAsync("() => document.getElementById('f').submit()"), r => r.Url.EndsWith("/stop", StringComparison.Ordinal));
        Assert.Equal(403, response.Status);
        Assert.Equal(RunStatus.Running, app.Runs().Get(run.Id)!.Status);
        gate.Release(1000);
    }

    /// <summary>Serves one HTML page on a free loopback port: the attacker's page in the cross-site test.</summary>
    private sealed class LoopbackPage : IAsyncDisposable
    {
        private readonly System.Net.HttpListener _listener = new();
        private Task _serving = Task.CompletedTask;

        public Uri Address { get; private init; } = null!;

        public static Task<LoopbackPage> StartAsync(string html)
        {
            var port = MedZoo.Reliability.Server.ListenPorts.Free(); // HttpListener cannot bind port 0
            var page = new LoopbackPage { Address = new Uri($"http://127.0.0.1:{port}/") };
            page._listener.Prefixes.Add(page.Address.ToString());
            page._listener.Start();
            var body = System.Text.Encoding.UTF8.GetBytes(html);
            page._serving = Task.Run(async () =>
            {
                while (page._listener.IsListening)
                {
                    System.Net.HttpListenerContext context;
                    try
                    {
                        context = await page._listener.GetContextAsync();
                    }
                    catch (Exception e) when (e is System.Net.HttpListenerException or ObjectDisposedException)
                    {
                        return; // stopped
                    }
                    context.Response.ContentType = "text/html; charset=utf-8";
                    await context.Response.OutputStream.WriteAsync(body);
                    context.Response.Close();
                }
            });
            return Task.FromResult(page);
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            _listener.Close();
            await _serving;
        }
    }
}

/// <summary>The same tests with the dashboard as a cluster web node whose runs a worker trains.</summary>
[Collection(ClusterHosts.Collection)]
public sealed class AccountsE2ETests_Cluster(ClusterHosts cluster) : AccountsE2ETests
{
    protected override IDashboardHosts Hosts => cluster;
}
