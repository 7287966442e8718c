using System.Net;
using MedZoo.Tests.TestSupport;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Accounts;
using MedZoo.Web.Persistence;
using Microsoft.Extensions.DependencyInjection;
using static MedZoo.Tests.Web.Support.AppTestHelpers;

namespace MedZoo.Tests.Web.Endpoints;

/// <summary>Who may reach what over plain HTTP: anonymous, viewer, operator; sign-in and first-run setup.</summary>
public sealed class AccessTests : IAsyncLifetime
{
    private readonly TempFolder _folder = MedZooAppFactory.NewDataFolder();
    private MedZooAppFactory _app = null!;
    private Uri _address = null!;

    public Task InitializeAsync()
    {
        _app = new MedZooAppFactory(_folder.Path, new ScriptedRunExecutor());
        _address = _app.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        _folder.Dispose();
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/runs")]
    [InlineData("/runs/new")]
    [InlineData("/runs/some-run")]
    [InlineData("/compare")]
    [InlineData("/datasets")]
    [InlineData("/models")]
    [InlineData("/reviews")]
    [InlineData("/reviews/some-review")]
    [InlineData("/admin/users")]
    public async Task Get_PageAnonymous_RedirectsToSignIn(string path)
    {
        var (client, _) = SignIn.NewClient(_address);
        using var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/account/signin", response.Headers.Location!.PathAndQuery);
    }

    [Theory]
    [InlineData("GET", "/api/runs")]
    [InlineData("GET", "/api/runs/x/metrics")]
    [InlineData("GET", "/api/runs/x/checkpoints/last")]
    [InlineData("POST", "/api/runs/x/stop")]
    [InlineData("GET", "/api/reviews")]
    [InlineData("GET", "/api/reviews/x/prediction.nii.gz")]
    [InlineData("GET", "/api/reviews/x/data/image.bin")]
    [InlineData("POST", "/api/reviews")]
    [InlineData("GET", "/api/uploads")]
    [InlineData("POST", "/api/uploads")]
    [InlineData("DELETE", "/api/uploads/x")]
    [InlineData("POST", "/hubs/training/negotiate?negotiateVersion=1")]
    public async Task Request_ApiOrHubAnonymous_Returns401(string method, string path)
    {
        var (client, _) = SignIn.NewClient(_address);
        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Get_SignInPageAndStylesAnonymous_Succeed()
    {
        var (client, _) = SignIn.NewClient(_address);
        var html = await client.GetStringAsync("/account/signin");
        Assert.Contains("id=\"signin-form\"", html);
        Assert.DoesNotContain("setup-hint", html); // an admin is configured
        Assert.True((await client.GetAsync("/_content/MudBlazor/MudBlazor.min.css")).IsSuccessStatusCode);
    }

    [Fact]
    public async Task SignIn_WrongPassword_RedirectsBackWithError()
    {
        var (client, _) = SignIn.NewClient(_address);
        using var response = await SignIn.PostAsync(client, MedZooAppFactory.AdminName, "wrong-password", "/runs");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/account/signin?error=1", response.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/runs")).StatusCode);
    }

    [Fact]
    public async Task SignIn_WithoutAntiforgeryToken_IsRejected()
    {
        var (client, _) = SignIn.NewClient(_address);
        using var response = await client.PostAsync("/account/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["UserName"] = MedZooAppFactory.AdminName, ["Password"] = MedZooAppFactory.AdminPassword,
        }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/runs")).StatusCode);
    }

    [Fact]
    public async Task SignIn_ExternalReturnUrl_GoesHomeInstead()
    {
        var (client, _) = SignIn.NewClient(_address);
        using var response = await SignIn.PostAsync(client, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword, "//evil.example/");
        Assert.Equal("/", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task Viewer_ReadsButCannotOperateOrAdminister()
    {
        _app.Services.GetRequiredService<UserService>().Create("watcher", "watcher-password", Roles.Viewer);
        var (client, _) = await SignIn.AsAsync(_address, "watcher", "watcher-password");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/runs")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/runs")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsync("/api/runs/x/stop", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/reviews")).StatusCode);
        using (var upload = new MultipartFormDataContent { { new ByteArrayContent([1, 2, 3]), "images", "t1.nii" } })
            Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsync("/api/uploads", upload)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.DeleteAsync("/api/uploads/x")).StatusCode);
        using var users = await client.GetAsync("/admin/users");
        Assert.Equal(HttpStatusCode.Redirect, users.StatusCode);
        Assert.StartsWith("/account/denied", users.Headers.Location!.PathAndQuery);
    }

    [Fact]
    public async Task Account_DeletedWhileSignedIn_LosesAccessAtTheNextRequest()
    {
        var users = _app.Services.GetRequiredService<UserService>();
        users.Create("leaver", "leaver-password", Roles.Operator);
        var (client, _) = await SignIn.AsAsync(_address, "leaver", "leaver-password");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/runs")).StatusCode);
        users.Delete("leaver");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/runs")).StatusCode);
    }

    [Fact]
    public async Task Operator_StopsRunsAndDownloadsCheckpoints()
    {
        var run = _app.Service().Start(Admin, "done", ScriptedRunExecutor.Json(epochs: 2, stepsPerEpoch: 1));
        await _app.WaitForStatusAsync(run.Id, RunStatus.Completed);
        _app.Services.GetRequiredService<UserService>().Create("op", "operator-password", Roles.Operator);
        var (client, _) = await SignIn.AsAsync(_address, "op", "operator-password");

        using var download = await client.GetAsync($"/api/runs/{run.Id}/checkpoints/last");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(new byte[] { 2 }, await download.Content.ReadAsByteArrayAsync());
        Assert.Contains("epoch2", download.Content.Headers.ContentDisposition!.FileName);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/runs/{run.Id}/checkpoints/best")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync("/api/runs/missing/stop", null)).StatusCode);

        var metrics = await client.GetStringAsync($"/api/runs/{run.Id}/metrics");
        Assert.Contains("\"NaN\"", metrics); // HD95 of the background, written as JSON can carry it
    }
}

/// <summary>First run without a configured admin: the setup page creates one, once.</summary>
public sealed class FirstRunSetupTests
{
    [Fact]
    public async Task Setup_NoAccounts_CreatesTheAdminOnceAndSignsIn()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor(), configureAdmin: false);
        var address = app.Start();
        var (client, _) = SignIn.NewClient(address);
        Assert.Contains("setup-hint", await client.GetStringAsync("/account/signin"));

        var token = await SignIn.FormTokenAsync(client, "/account/setup");
        using var created = await client.PostAsync("/account/setup", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["UserName"] = "boss", ["Password"] = "boss-password", ["Confirm"] = "boss-password", ["__RequestVerificationToken"] = token,
        }));
        Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        Assert.Equal("/", created.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/runs")).StatusCode);

        var (other, _) = SignIn.NewClient(address);
        var page = await other.GetStringAsync("/account/setup");
        Assert.DoesNotContain("setup-form", page);
        var users = app.Services.GetRequiredService<UserService>();
        Assert.Null(users.CreateFirstAdmin("intruder", "intruder-password"));
        Assert.Equal(Roles.Admin, Assert.Single(users.List()).Role);
    }

    [Fact]
    public async Task Setup_PasswordsDiffer_ShowsTheReason()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor(), configureAdmin: false);
        var (client, _) = SignIn.NewClient(app.Start());
        var token = await SignIn.FormTokenAsync(client, "/account/setup");
        using var response = await client.PostAsync("/account/setup", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["UserName"] = "boss", ["Password"] = "boss-password", ["Confirm"] = "other-password", ["__RequestVerificationToken"] = token,
        }));
        Assert.Contains("error=", response.Headers.Location!.OriginalString);
        Assert.False(app.Services.GetRequiredService<UserService>().HasUsers);
    }
}

/// <summary>Signed-in sessions survive a restart: the cookie keys live in the data folder.</summary>
public sealed class SessionRestartTests
{
    [Fact]
    public async Task Restart_SameDataFolder_KeepsUsersSignedIn()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        HttpClient client;
        await using (var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor()))
        {
            (client, _) = await SignIn.AsAsync(app.Start(), MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword);
        }
        Assert.True(Directory.EnumerateFiles(Path.Combine(folder.Path, "keys")).Any());
        await using var again = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor());
        var address = again.Start();
        // Cookies are scoped to the host, not the port, so the jar sends the cookie to the new server.
        using var response = await client.GetAsync(new Uri(address, "/api/runs"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
