using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MedZoo.Tests.TestSupport;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Accounts;
using MedZoo.Web.Live;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Live;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using static MedZoo.Tests.Web.Support.AppTestHelpers;

namespace MedZoo.Tests.Web.Accounts;

/// <summary>
/// Personal API tokens over real HTTP: the whole run life cycle driven with a bearer token, the role a token carries
/// (and loses), the cross-site guard's exemption for bearer requests only, the back-off after wrong tokens, and
/// ProblemDetails refusals.
/// </summary>
public sealed class ApiTokenAuthenticationTests : IAsyncLifetime
{
    private readonly TempFolder _folder = MedZooAppFactory.NewDataFolder();
    private readonly ScriptedRunExecutor _executor = new();
    private MedZooAppFactory _app = null!;
    private Uri _address = null!;

    public Task InitializeAsync()
    {
        _app = new MedZooAppFactory(_folder.Path, _executor);
        // Two wrong tokens are free, the third blocks the address for a minute (sign-in's rule, smaller numbers).
        _app.Settings["MedZoo:Accounts:FreeFailures"] = "2";
        _app.Settings["MedZoo:Accounts:FirstBackoff"] = "00:01:00";
        _address = _app.Start();
        var users = _app.Services.GetRequiredService<UserService>();
        users.Create("op", "operator-password", Roles.Operator);
        users.Create("viewer", "viewer-password", Roles.Viewer);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        _folder.Dispose();
    }

    private CreatedApiToken Token(string user, string role) =>
        _app.Services.GetRequiredService<ApiTokenService>().Create(Principal(user, role), "test");

    private HttpClient Bearer(string secret)
    {
        var client = new HttpClient { BaseAddress = _address };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        return client;
    }

    private static StringContent StartBody(string configJson) =>
        new($"{{\"name\":\"by token\",\"config\":{configJson}}}", Encoding.UTF8, "application/json");

    private static async Task<string> DetailAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal((int)response.StatusCode, json.RootElement.GetProperty("status").GetInt32());
        return json.RootElement.GetProperty("detail").GetString()!;
    }

    private static async Task<string> IdOf(HttpResponseMessage response)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task Bearer_OperatorToken_StartsPausesResumesStopsAndDeletesARun()
    {
        _executor.StepGate = new SemaphoreSlim(0);
        using var client = Bearer(Token("op", Roles.Operator).Secret);

        using var started = await client.PostAsync("/api/runs", StartBody(ScriptedRunExecutor.Json(epochs: 2, stepsPerEpoch: 3)));
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        var id = await IdOf(started);
        Assert.Equal("op", _app.Repository().Get(id)!.CreatedBy);
        await _app.WaitForStatusAsync(id, RunStatus.Running);

        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"/api/runs/{id}/pause", null)).StatusCode);
        _executor.StepGate.Release(); // the batch in flight ends, then the run holds
        await _app.WaitForStatusAsync(id, RunStatus.Paused);
        using (var again = await client.PostAsync($"/api/runs/{id}/pause", null))
        {
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
            Assert.Equal($"run '{id}' is Paused; only a running run can be paused", await DetailAsync(again));
        }
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"/api/runs/{id}/resume", null)).StatusCode);
        await _app.WaitForStatusAsync(id, RunStatus.Running);
        using (var busy = await client.DeleteAsync($"/api/runs/{id}"))
        {
            Assert.Equal(HttpStatusCode.Conflict, busy.StatusCode);
            Assert.Contains("stop it before deleting it", await DetailAsync(busy));
        }
        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsync($"/api/runs/{id}/stop", null)).StatusCode);
        await _app.WaitForStatusAsync(id, RunStatus.Stopped);
        using (var noCheckpoint = await client.PostAsync($"/api/runs/{id}/resume", null))
        {
            Assert.Equal(HttpStatusCode.Conflict, noCheckpoint.StatusCode);
            Assert.Contains("has no checkpoint to resume from", await DetailAsync(noCheckpoint));
        }
        // The worker lets go of the run just after it is recorded as stopped.
        var worker = _app.Services.GetRequiredService<RunWorker>();
        var deadline = DateTime.UtcNow + Waits.Timeout;
        while (worker.ActiveRunIds.Contains(id) && DateTime.UtcNow < deadline) await Task.Delay(20);

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/runs/{id}")).StatusCode);
        using var gone = await client.GetAsync($"/api/runs/{id}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal($"no run '{id}': list the runs with GET /api/runs", await DetailAsync(gone));
    }

    [Fact]
    public async Task Bearer_ViewerToken_ReadsButCannotStartRuns()
    {
        using var client = Bearer(Token("viewer", Roles.Viewer).Secret);

        using var refused = await client.PostAsync("/api/runs", StartBody(ScriptedRunExecutor.Json()));

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("This needs the operator role; the token's user 'viewer' is viewer. Ask an admin for it.", await DetailAsync(refused));
        Assert.Empty(_app.Repository().List());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/runs")).StatusCode);
    }

    [Theory]
    [InlineData("demoted", HttpStatusCode.Forbidden)]
    [InlineData("deleted", HttpStatusCode.Unauthorized)]
    [InlineData("revoked", HttpStatusCode.Unauthorized)]
    [InlineData("password changed", HttpStatusCode.Unauthorized)]
    public async Task Bearer_AfterUserOrTokenChanged_LosesItsPowerAtTheNextRequest(string change, HttpStatusCode expected)
    {
        var token = Token("op", Roles.Operator);
        using var client = Bearer(token.Secret);
        using (var ok = await client.PostAsync("/api/runs", StartBody(ScriptedRunExecutor.Json(epochs: 1, stepsPerEpoch: 1))))
            Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        var users = _app.Services.GetRequiredService<UserService>();

        switch (change)
        {
            case "demoted": users.SetRole("op", Roles.Viewer); break;
            case "deleted": users.Delete("op"); break;
            case "revoked": _app.Services.GetRequiredService<ApiTokenService>().Revoke(Principal("op", Roles.Operator), token.Token.Id); break;
            default: users.SetPassword("op", "new-operator-password"); break;
        }
        using var after = await client.PostAsync("/api/runs", StartBody(ScriptedRunExecutor.Json(epochs: 1, stepsPerEpoch: 1)));

        Assert.Equal(expected, after.StatusCode);
        if (expected == HttpStatusCode.Unauthorized)
        {
            Assert.Equal("Bearer error=\"invalid_token\"", after.Headers.WwwAuthenticate.ToString());
            Assert.Contains("revoked, mistyped, or its user was deleted or changed password", await DetailAsync(after));
        }
        Assert.Single(_app.Repository().List());
    }

    [Fact]
    public async Task Bearer_WrongTokenBesideASignedInCookie_IsRefusedAndNeverActsAsTheCookiesUser()
    {
        var (client, _) = await SignIn.AsAsync(_address, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/runs")).StatusCode);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/runs") { Content = StartBody(ScriptedRunExecutor.Json()) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "mzt_not-a-real-token");
        request.Headers.Add("Sec-Fetch-Site", "cross-site"); // as a page of another site would send it
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(_app.Repository().List());
    }

    [Fact]
    public async Task CrossSiteGuard_CookieRequestStillRefused_BearerRequestExempt()
    {
        var (cookieClient, _) = await SignIn.AsAsync(_address, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword);
        using var cookieRequest = new HttpRequestMessage(HttpMethod.Post, "/api/runs") { Content = StartBody(ScriptedRunExecutor.Json()) };
        cookieRequest.Headers.Add("Sec-Fetch-Site", "cross-site");
        cookieRequest.Headers.Add("Origin", "http://evil.example");
        using var cookieResponse = await cookieClient.SendAsync(cookieRequest);
        Assert.Equal(HttpStatusCode.Forbidden, cookieResponse.StatusCode);
        Assert.Contains("came from a page of another origin", await cookieResponse.Content.ReadAsStringAsync());

        using var bearer = Bearer(Token("op", Roles.Operator).Secret);
        using var bearerRequest = new HttpRequestMessage(HttpMethod.Post, "/api/runs") { Content = StartBody(ScriptedRunExecutor.Json(epochs: 1, stepsPerEpoch: 1)) };
        bearerRequest.Headers.Add("Sec-Fetch-Site", "cross-site");
        bearerRequest.Headers.Add("Origin", "http://evil.example");
        using var bearerResponse = await bearer.SendAsync(bearerRequest);
        Assert.Equal(HttpStatusCode.Created, bearerResponse.StatusCode);

        // Outside the API a bearer header buys nothing: the sign-out form is still guarded.
        using var signOut = new HttpRequestMessage(HttpMethod.Post, "/account/signout");
        signOut.Headers.Add("Sec-Fetch-Site", "cross-site");
        Assert.Equal(HttpStatusCode.Forbidden, (await bearer.SendAsync(signOut)).StatusCode);
    }

    [Fact]
    public async Task Bearer_WrongTokens_BackOffPerAddressAndThenRefuseEvenAGoodToken()
    {
        var good = Token("op", Roles.Operator).Secret;
        using var wrong = Bearer(ApiTokenService.Prefix + new string('A', 43));

        for (var i = 0; i < 3; i++) // 2 free failures, the third starts the back-off
            Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/api/runs")).StatusCode);
        using var blocked = await Bearer(good).GetAsync("/api/runs");

        Assert.Equal(HttpStatusCode.TooManyRequests, blocked.StatusCode);
        Assert.InRange(blocked.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 60);
        Assert.Contains("carried a wrong API token: wait", await DetailAsync(blocked));
        // The sign-in form keeps its own count: the address's browser sign-in is not locked out by a script's stale token.
        Assert.Equal(HttpStatusCode.OK, (await (await SignIn.AsAsync(_address, "viewer", "viewer-password")).Client.GetAsync("/api/runs")).StatusCode);
    }

    [Fact]
    public async Task Hub_ConnectionOpenedWithAToken_IsClosedWhenTheTokenIsRevoked()
    {
        var token = Token("op", Roles.Operator);
        var run = _app.Service().Start(Admin, "watched", ScriptedRunExecutor.Json(epochs: 1, stepsPerEpoch: 1));
        await using var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(_address, TrainingHub.Path.TrimStart('/')), o => o.AccessTokenProvider = () => Task.FromResult<string?>(token.Secret))
            .AddJsonProtocol(o => LiveJson.Configure(o.PayloadSerializerOptions))
            .Build();
        var closed = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        hub.Closed += _ => { closed.TrySetResult(true); return Task.CompletedTask; };
        await hub.StartAsync();
        Assert.Equal(run.Id, (await hub.InvokeAsync<RunInfo>(nameof(TrainingHub.Subscribe), run.Id)).Id);
        var filter = _app.Services.GetRequiredService<HubSessionFilter>();
        Assert.Equal(0, filter.RevalidateAll());

        _app.Services.GetRequiredService<ApiTokenService>().Revoke(Principal("op", Roles.Operator), token.Token.Id);

        Assert.Equal(1, filter.RevalidateAll());
        await Waits.For(closed.Task, "the revoked token's hub connection to close");
    }

    [Fact]
    public async Task Api_NoCredentialsOrUnknownThings_AnswerProblemDetailsThatSayWhatToDo()
    {
        using var anonymous = new HttpClient { BaseAddress = _address };
        using var noToken = await anonymous.GetAsync("/api/runs");
        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
        Assert.Equal("application/problem+json", noToken.Content.Headers.ContentType?.MediaType);

        using var client = Bearer(Token("op", Roles.Operator).Secret);
        using var badKind = await client.GetAsync("/api/runs/x/checkpoints/middle");
        Assert.Equal("checkpoint kind 'middle' does not exist; use last or best", await DetailAsync(badKind));
        using var badConfig = await client.PostAsync("/api/runs", StartBody(ScriptedRunExecutor.Json(epochs: 0)));
        Assert.Equal(HttpStatusCode.BadRequest, badConfig.StatusCode);
        Assert.Contains("Epochs: must be at least 1", await DetailAsync(badConfig));
        using var noReview = await client.GetAsync("/api/reviews/missing/prediction.nii.gz");
        Assert.Equal("no review 'missing': list the reviews with GET /api/reviews", await DetailAsync(noReview));
        using var noSubjects = await client.GetAsync("/api/runs/missing/validation-subjects");
        Assert.Equal(HttpStatusCode.NotFound, noSubjects.StatusCode);
    }
}
