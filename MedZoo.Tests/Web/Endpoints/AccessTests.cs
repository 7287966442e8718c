using System.Net;
using MedZoo.Tests.TestSupport;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Accounts;
using MedZoo.Web.Runs;
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
    public async Task SignIn_WrongPassword_AnswersWithTheFormTheReasonAndTheName()
    {
        var (client, _) = SignIn.NewClient(_address);
        using var response = await SignIn.PostAsync(client, MedZooAppFactory.AdminName, "wrong-password", "/runs");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Null(response.Headers.Location);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("id=\"signin-error\">Wrong user name or password.", html);
        Assert.Contains($"value=\"{MedZooAppFactory.AdminName}\"", html);
        Assert.Contains("value=\"/runs\"", html); // the return address survives the retry
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/runs")).StatusCode);
    }

    [Fact]
    public async Task Get_SignInWithErrorInTheUrl_ShowsNoError()
    {
        var (client, _) = SignIn.NewClient(_address);
        var html = await client.GetStringAsync("/account/signin?error=Your+account+is+locked");
        Assert.DoesNotContain("signin-error", html);
        Assert.DoesNotContain("locked", html);
    }

    [Theory]
    [InlineData("/admin/users", "This page needs the admin role.")]
    [InlineData("/runs/new", "This page needs the operator role.")]
    public async Task Get_PageAboveTheViewersRole_DeniedPageNamesTheRoleItNeeds(string path, string expected)
    {
        _app.Services.GetRequiredService<UserService>().Create("watcher", "watcher-password", Roles.Viewer);
        var (client, _) = await SignIn.AsAsync(_address, "watcher", "watcher-password");
        using var refused = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        var html = await client.GetStringAsync(refused.Headers.Location);
        Assert.Contains(expected, html);
        Assert.DoesNotContain("need=", html);
        // The query names a role, never free text: anything else gets the general message.
        Assert.Contains("Your role does not allow this page.", await client.GetStringAsync("/account/denied?need=superuser+(call+0800)"));
    }

    [Fact]
    public async Task Session_PasswordResetElsewhere_EndsAtTheNextRequest()
    {
        var users = _app.Services.GetRequiredService<UserService>();
        users.Create("alice", "alice-password", Roles.Operator);
        var (client, _) = await SignIn.AsAsync(_address, "alice", "alice-password");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/runs")).StatusCode);
        users.SetPassword("alice", "a-brand-new-password");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/runs")).StatusCode);
        var (again, _) = await SignIn.AsAsync(_address, "alice", "a-brand-new-password");
        Assert.Equal(HttpStatusCode.OK, (await again.GetAsync("/api/runs")).StatusCode);
    }

    [Fact]
    public async Task Session_RoleChanged_TakesEffectAtTheNextRequest()
    {
        var users = _app.Services.GetRequiredService<UserService>();
        users.Create("alice", "alice-password", Roles.Operator);
        var (client, _) = await SignIn.AsAsync(_address, "alice", "alice-password");
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync("/api/runs/missing/stop", null)).StatusCode);
        users.SetRole("alice", Roles.Viewer);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsync("/api/runs/missing/stop", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/runs")).StatusCode);
    }

    [Fact]
    public async Task Post_FromAnotherOriginOfTheSameHost_IsRefusedEvenWithTheCookie()
    {
        var (client, _) = await SignIn.AsAsync(_address, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword);
        var own = _address.GetLeftPart(UriPartial.Authority);
        var otherPort = $"http://127.0.0.1:{(_address.Port == 8888 ? 8889 : 8888)}";

        async Task<HttpStatusCode> Send(HttpMethod method, string path, params (string, string)[] headers)
        {
            using var request = new HttpRequestMessage(method, path);
            if (method != HttpMethod.Delete) request.Content = new MultipartFormDataContent { { new ByteArrayContent([1, 2, 3]), "images", "t1.nii" } };
            foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
            using var response = await client.SendAsync(request);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.Forbidden, await Send(HttpMethod.Post, "/api/runs/missing/stop", ("Origin", otherPort)));
        Assert.Equal(HttpStatusCode.Forbidden, await Send(HttpMethod.Post, "/api/runs/missing/stop", ("Sec-Fetch-Site", "same-site"), ("Origin", otherPort)));
        Assert.Equal(HttpStatusCode.Forbidden, await Send(HttpMethod.Post, "/api/uploads", ("Sec-Fetch-Site", "same-site"), ("Origin", otherPort)));
        Assert.Equal(HttpStatusCode.Forbidden, await Send(HttpMethod.Delete, "/api/uploads/x", ("Sec-Fetch-Site", "cross-site"), ("Origin", "http://evil.example")));
        Assert.Equal(HttpStatusCode.Forbidden, await Send(HttpMethod.Post, "/account/signout", ("Sec-Fetch-Site", "same-site"), ("Origin", otherPort)));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/runs")).StatusCode); // still signed in

        // The dashboard's own pages, and clients that are not browsers, pass.
        Assert.Equal(HttpStatusCode.NotFound, await Send(HttpMethod.Post, "/api/runs/missing/stop", ("Sec-Fetch-Site", "same-origin"), ("Origin", own)));
        Assert.Equal(HttpStatusCode.NotFound, await Send(HttpMethod.Post, "/api/runs/missing/stop", ("Origin", own)));
        Assert.Equal(HttpStatusCode.NotFound, await Send(HttpMethod.Post, "/api/runs/missing/stop"));
    }

    [Fact]
    public async Task SignIn_PostedFromAnotherOrigin_IsRefused()
    {
        var (client, _) = SignIn.NewClient(_address);
        var token = await SignIn.FormTokenAsync(client, "/account/signin");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/account/signin")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["UserName"] = MedZooAppFactory.AdminName, ["Password"] = MedZooAppFactory.AdminPassword, ["__RequestVerificationToken"] = token,
            }),
        };
        request.Headers.Add("Origin", "http://127.0.0.1:1");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/runs")).StatusCode);
    }

    [Theory]
    [InlineData("evil.example")]
    [InlineData("rebound.attacker.test:5000")]
    public async Task Get_HostHeaderOfAnotherName_IsRefused(string host)
    {
        var (client, _) = SignIn.NewClient(_address);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/account/signin");
        request.Headers.Host = host;
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var local = new HttpRequestMessage(HttpMethod.Get, "/account/signin");
        local.Headers.Host = $"localhost:{_address.Port}";
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(local)).StatusCode);
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

/// <summary>First run without a configured admin: the setup page creates one, once, for whoever has the printed token.</summary>
public sealed class FirstRunSetupTests
{
    /// <summary>The setup token where a user finds it: the file the server names in its start message.</summary>
    public static string ReadToken(string dataFolder) => File.ReadAllText(Path.Combine(dataFolder, SetupToken.FileName)).Trim();

    private static async Task<HttpResponseMessage> PostSetupAsync(HttpClient client, string? token, string user, string password, string confirm)
    {
        var form = await SignIn.FormTokenAsync(client, "/account/setup" + (token is null ? "" : "?token=" + token));
        var fields = new Dictionary<string, string>
        {
            ["UserName"] = user, ["Password"] = password, ["Confirm"] = confirm, ["__RequestVerificationToken"] = form,
        };
        if (token is not null) fields["Token"] = token;
        return await client.PostAsync("/account/setup", new FormUrlEncodedContent(fields));
    }

    [Fact]
    public async Task Setup_WithThePrintedToken_CreatesTheAdminOnceSignsInAndRecordsTheSignIn()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor(), configureAdmin: false);
        var address = app.Start();
        var (client, _) = SignIn.NewClient(address);
        // A fresh install sends the sign-in page to setup.
        using (var signIn = await client.GetAsync("/account/signin"))
        {
            Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
            Assert.Equal("/account/setup", signIn.Headers.Location!.AbsolutePath);
        }
        var token = ReadToken(folder.Path);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(folder.Path, SetupToken.FileName)));

        using var created = await PostSetupAsync(client, token, "boss", "boss-password", "boss-password");
        Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        Assert.Equal("/", created.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/runs")).StatusCode);
        Assert.False(File.Exists(Path.Combine(folder.Path, SetupToken.FileName)));

        var (other, _) = SignIn.NewClient(address);
        var page = await other.GetStringAsync("/account/setup?token=" + token);
        Assert.DoesNotContain("setup-form", page);
        var users = app.Services.GetRequiredService<UserService>();
        Assert.Null(users.CreateFirstAdmin("intruder", "intruder-password"));
        var admin = Assert.Single(users.List());
        Assert.Equal(Roles.Admin, admin.Role);
        Assert.NotNull(admin.LastSignInAt); // setup signed the admin in: the Users page must not say "never"
    }

    [Theory]
    [InlineData(null)]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef")]
    public async Task Setup_WithoutTheToken_IsRefusedAndCreatesNobody(string? token)
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor(), configureAdmin: false);
        var (client, _) = SignIn.NewClient(app.Start());
        var page = await client.GetStringAsync("/account/setup" + (token is null ? "" : "?token=" + token));
        Assert.Contains("setup-token-needed", page);
        Assert.Contains("id=\"token\"", page); // the form asks for the token instead of carrying it

        var form = await SignIn.FormTokenAsync(client, "/account/setup");
        var fields = new Dictionary<string, string>
        {
            ["UserName"] = "intruder", ["Password"] = "intruder-password", ["Confirm"] = "intruder-password", ["__RequestVerificationToken"] = form,
        };
        if (token is not null) fields["Token"] = token;
        using var response = await client.PostAsync("/account/setup", new FormUrlEncodedContent(fields));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("setup token is missing or not the current one", await response.Content.ReadAsStringAsync());
        Assert.False(app.Services.GetRequiredService<UserService>().HasUsers);
    }

    [Fact]
    public async Task Setup_PasswordsDiffer_AnswersWithTheReasonAndKeepsTheName()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor(), configureAdmin: false);
        var (client, _) = SignIn.NewClient(app.Start());
        using var response = await PostSetupAsync(client, ReadToken(folder.Path), "boss", "boss-password", "other-password");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("The two passwords differ.", html);
        Assert.Contains("value=\"boss\"", html);
        Assert.Contains("id=\"setup-form\"", html); // the form is there again, with the token, for the retry
        Assert.False(app.Services.GetRequiredService<UserService>().HasUsers);
    }

    [Fact]
    public async Task Setup_InvalidName_ShowsTheRuleWithoutDotNetText()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor(), configureAdmin: false);
        var (client, _) = SignIn.NewClient(app.Start());
        using var response = await PostSetupAsync(client, ReadToken(folder.Path), "has space", "boss-password", "boss-password");
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        Assert.Contains("User name must be 1 to 64 letters", html);
        Assert.DoesNotContain("(Parameter", html);
    }

    [Fact]
    public async Task Get_SetupWithErrorInTheUrl_ShowsNoText()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor(), configureAdmin: false);
        var (client, _) = SignIn.NewClient(app.Start());
        var html = await client.GetStringAsync($"/account/setup?token={ReadToken(folder.Path)}&error=Call+Mallory+to+unlock");
        Assert.Contains("id=\"setup-form\"", html);
        Assert.DoesNotContain("Mallory", html);
    }

    [Fact]
    public async Task Start_ConfiguredAdmin_LeavesNoSetupToken()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        File.WriteAllText(Path.Combine(folder.Path, SetupToken.FileName), "left-over\n");
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor());
        var (client, _) = SignIn.NewClient(app.Start());
        Assert.False(File.Exists(Path.Combine(folder.Path, SetupToken.FileName)));
        Assert.DoesNotContain("setup-form", await client.GetStringAsync("/account/setup?token=left-over"));
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
