using System.Net;
using MedZoo.Tests.TestSupport;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Accounts;
using MedZoo.Web.Live;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Live;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static MedZoo.Tests.Web.Support.AppTestHelpers;

namespace MedZoo.Tests.Web.Endpoints;

/// <summary>
/// Access crawls generated from the app's endpoint table (see <see cref="EndpointCrawl"/>): anonymously, nothing but
/// the account pages and static files answers; a signed-in viewer is refused every operator and admin action, over
/// HTTP and on the hub; and a crawl does flag an unprotected endpoint added to the app.
/// </summary>
public sealed class AccessCrawlTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string ViewerName = "crawl-viewer";
    private const string ViewerPassword = "crawl-viewer-password";

    private readonly TempFolder _folder = MedZooAppFactory.NewDataFolder();
    private MedZooAppFactory _app = null!;
    private Uri _address = null!;
    private Dictionary<string, string> _values = null!;

    public async Task InitializeAsync()
    {
        _app = new MedZooAppFactory(_folder.Path, new ScriptedRunExecutor());
        _address = _app.Start();
        // Route values of a run that exists, so a handler that forgot its policy would act (2xx) rather than 404.
        var run = _app.Service().Start(Admin, "crawled", ScriptedRunExecutor.Json(epochs: 1, stepsPerEpoch: 1));
        await _app.WaitForStatusAsync(run.Id, RunStatus.Completed);
        _values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["id"] = run.Id, ["otherId"] = run.Id, ["kind"] = "last", ["name"] = "prediction.u8",
        };
        _app.Services.GetRequiredService<UserService>().Create(ViewerName, ViewerPassword, Roles.Viewer);
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task Crawl_Anonymous_OnlySignInSetupAndStaticFilesAnswer()
    {
        var endpoints = EndpointCrawl.Endpoints(_app.Services);
        AssertTableCoversEveryKind(endpoints);
        var requests = EndpointCrawl.Requests(endpoints.Where(e => !EndpointCrawl.IsOpenByDesign(e)), _values);
        var (client, _) = SignIn.NewClient(_address);

        var findings = await EndpointCrawl.CrawlAsync(client, requests, EndpointCrawl.IsAnonymousRefusal);

        output.WriteLine($"{endpoints.Count} endpoints ({endpoints.Count(EndpointCrawl.IsStaticAsset)} static assets), {requests.Count} anonymous requests");
        Assert.True(findings.Count == 0, $"{findings.Count} of {requests.Count} anonymous requests were answered:\n{string.Join('\n', findings)}");
        // The crawl can see an answer: the open pages do answer anonymous visitors.
        var open = EndpointCrawl.Requests(endpoints.Where(e => EndpointCrawl.IsOpenByDesign(e) && !EndpointCrawl.IsStaticAsset(e) && EndpointCrawl.IsPage(e)));
        Assert.NotEmpty(open);
        Assert.Equal(open.Count(q => q.Method == "GET"), (await EndpointCrawl.CrawlAsync(client, open.Where(q => q.Method == "GET"), EndpointCrawl.IsAnonymousRefusal)).Count);
    }

    [Fact]
    public async Task Crawl_Viewer_IsRefusedEveryOperatorAndAdminAction()
    {
        var endpoints = EndpointCrawl.Endpoints(_app.Services);
        var guarded = new List<RouteEndpoint>();
        foreach (var e in endpoints)
            if (EndpointCrawl.RefusesViewer(await EndpointCrawl.EffectivePolicyAsync(e, _app.Services))) guarded.Add(e);
        // The policies are read from the table, not listed here; these are a sample of what they must find.
        foreach (var route in new[] { "/api/runs/{id}/stop", "/api/runs/{id}/pause", "/api/runs/{id}", "/api/reviews/{id}/rerun", "/api/uploads/", "/api/uploads/{id}", "/api/reviews/", "/runs/new", "/admin/users" })
            Assert.Contains(guarded, e => "/" + e.RoutePattern.RawText!.TrimStart('/') == route);
        var requests = EndpointCrawl.Requests(guarded, _values);
        var (client, _) = await SignIn.AsAsync(_address, ViewerName, ViewerPassword);

        var findings = await EndpointCrawl.CrawlAsync(client, requests, EndpointCrawl.IsForbidden);

        output.WriteLine($"{guarded.Count} operator/admin endpoints, {requests.Count} viewer requests: {string.Join(", ", guarded.Select(e => e.RoutePattern.RawText))}");
        Assert.True(findings.Count == 0, $"{findings.Count} of {requests.Count} operator/admin requests were not refused to a viewer:\n{string.Join('\n', findings)}");
        var unguarded = await EndpointCrawl.UnguardedMutationsAsync(endpoints, _app.Services);
        Assert.True(unguarded.Count == 0, string.Join('\n', unguarded));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/runs")).StatusCode); // the viewer is signed in
    }

    [Fact]
    public async Task Crawl_ViewerApiToken_IsRefusedEveryOperatorAndAdminAction()
    {
        var endpoints = EndpointCrawl.Endpoints(_app.Services);
        var guarded = new List<RouteEndpoint>();
        foreach (var e in endpoints)
            if (EndpointCrawl.RefusesViewer(await EndpointCrawl.EffectivePolicyAsync(e, _app.Services))) guarded.Add(e);
        var requests = EndpointCrawl.Requests(guarded, _values);
        var token = _app.Services.GetRequiredService<ApiTokenService>().Create(Principal(ViewerName, Roles.Viewer), "crawl").Secret;
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = _address };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);

        var findings = await EndpointCrawl.CrawlAsync(client, requests, EndpointCrawl.IsForbidden);

        output.WriteLine($"{requests.Count} operator/admin requests with a viewer's API token");
        Assert.True(findings.Count == 0, $"{findings.Count} of {requests.Count} operator/admin requests were not refused to a viewer's token:\n{string.Join('\n', findings)}");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/runs")).StatusCode); // the token is accepted
    }

    [Fact]
    public async Task Crawl_ViewerOnTheHub_IsRefusedEveryOperatorMethod()
    {
        var methods = await EndpointCrawl.GuardedHubMethodsAsync(typeof(TrainingHub), _app.Services);
        Assert.Equal(["Pause", "Resume", "Stop"], methods.Select(m => m.Name).Order(StringComparer.Ordinal));
        var (_, cookies) = await SignIn.AsAsync(_address, ViewerName, ViewerPassword);
        await using var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(_address, TrainingHub.Path.TrimStart('/')), o => o.Cookies = cookies)
            .AddJsonProtocol(o => LiveJson.Configure(o.PayloadSerializerOptions))
            .Build();
        await hub.StartAsync();

        var answered = new List<string>();
        foreach (var m in methods)
        {
            var args = m.GetParameters().Select(p => p.ParameterType == typeof(string) ? (object?)_values["id"] : null).ToArray();
            try
            {
                await hub.InvokeCoreAsync(m.Name, m.ReturnType == typeof(void) ? typeof(object) : m.ReturnType, args);
                answered.Add(m.Name);
            }
            catch (HubException e) when (e.Message.Contains("unauthorized", StringComparison.OrdinalIgnoreCase))
            {
            }
        }

        Assert.True(answered.Count == 0, $"hub methods a viewer could call: {string.Join(", ", answered)}");
        Assert.NotNull(await hub.InvokeAsync<RunInfo>(nameof(TrainingHub.Subscribe), _values["id"])); // the viewer is connected
    }

    [Fact]
    public async Task Crawl_AppWithAnUnprotectedEndpointAdded_FlagsIt()
    {
        // The same app plus two endpoints someone might add carelessly: an anonymous one and a state-changing one
        // that requires sign-in but no role.
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var leaky = _app.WithWebHostBuilder(b => b.UseSetting("MedZoo:DataDirectory", folder.Path)
            .ConfigureTestServices(s => s.AddTransient<IStartupFilter>(_ => new ExtraEndpoints(e =>
            {
                e.MapGet("/api/leak", () => "secret").AllowAnonymous();
                e.MapPost("/api/runs/{id}/purge", (string id) => Results.NoContent()).RequireAuthorization();
            }))));
        using var client = leaky.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var endpoints = EndpointCrawl.Endpoints(leaky.Services);
        var requests = EndpointCrawl.Requests(endpoints.Where(e => !EndpointCrawl.IsOpenByDesign(e)), _values);

        var findings = await EndpointCrawl.CrawlAsync(client, requests, EndpointCrawl.IsAnonymousRefusal);
        var unguarded = await EndpointCrawl.UnguardedMutationsAsync(endpoints, leaky.Services);

        Assert.Equal("GET /api/leak (/api/leak): answered 200 OK", Assert.Single(findings));
        Assert.StartsWith("POST /api/runs/{id}/purge:", Assert.Single(unguarded));
    }

    // The table must hold every kind of endpoint, so that a crawl of a broken enumeration cannot pass empty.
    private static void AssertTableCoversEveryKind(IReadOnlyList<RouteEndpoint> endpoints)
    {
        string Route(RouteEndpoint e) => "/" + e.RoutePattern.RawText!.TrimStart('/');
        Assert.Contains(endpoints, e => EndpointCrawl.IsPage(e) && Route(e) == "/runs/{Id}");
        Assert.Contains(endpoints, e => EndpointCrawl.IsHub(e) && Route(e).StartsWith(TrainingHub.Path, StringComparison.Ordinal));
        Assert.Contains(endpoints, e => Route(e) == "/api/runs/{id}/metrics");
        Assert.Contains(endpoints, e => Route(e) == AccountEndpoints.SignInPath && EndpointCrawl.Methods(e).Contains("POST"));
        Assert.Contains(endpoints, EndpointCrawl.IsStaticAsset);
    }

    // Maps extra endpoints in front of the app's own pipeline (authorization for them included), the way a new
    // Map... call in the app would add them to the same endpoint table.
    private sealed class ExtraEndpoints(Action<IEndpointRouteBuilder> map) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.UseRouting();
            app.UseWhen(c => c.GetEndpoint() is not null, b => b.UseAuthentication().UseAuthorization());
            app.UseEndpoints(map);
            next(app);
        };
    }
}
