using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using MedZoo.Tests.TestSupport;
using MedZoo.Tests.Web.Endpoints;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Accounts;
using MedZoo.Web.Api;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using static MedZoo.Tests.Web.Support.AppTestHelpers;

namespace MedZoo.Tests.Web.Api;

/// <summary>The OpenAPI document covers the app's own endpoint table; the Scalar reference is served locally to signed-in users.</summary>
public sealed partial class ApiExtensionsTests : IAsyncLifetime
{
    private readonly TempFolder _folder = MedZooAppFactory.NewDataFolder();
    private MedZooAppFactory _app = null!;
    private HttpClient _client = null!;

    public Task InitializeAsync()
    {
        _app = new MedZooAppFactory(_folder.Path, new ScriptedRunExecutor());
        var address = _app.Start();
        // Redirects are followed by hand: HttpClient drops the Authorization header on a redirect.
        _client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = address };
        _client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            _app.Services.GetRequiredService<ApiTokenService>().Create(Admin, "docs").Secret);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task OpenApi_Document_DescribesEveryApiEndpointOfTheTableAndTheBearerScheme()
    {
        using var json = JsonDocument.Parse(await _client.GetStringAsync(ApiExtensions.DocumentPath));
        var paths = json.RootElement.GetProperty("paths");
        // Generated from the endpoint table, like the access crawl: an endpoint added under /api is described or the test says which is not.
        var api = EndpointCrawl.Endpoints(_app.Services)
            .Where(e => e.RoutePattern.RawText!.TrimStart('/').StartsWith("api/", StringComparison.Ordinal))
            .Where(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.IExcludeFromDescriptionMetadata>()?.ExcludeFromDescription != true)
            .ToList();
        Assert.Contains(api, e => e.RoutePattern.RawText == "/api/runs/{id}/pause");
        var missing = new List<string>();
        foreach (var e in api)
        {
            var path = "/" + e.RoutePattern.RawText!.Trim('/');
            foreach (var method in EndpointCrawl.Methods(e))
                if (!paths.TryGetProperty(path, out var item) || !item.TryGetProperty(method.ToLowerInvariant(), out _))
                    missing.Add($"{method} {path}");
        }
        Assert.True(missing.Count == 0, "not in the OpenAPI document: " + string.Join(", ", missing));
        Assert.DoesNotContain(paths.EnumerateObject(), p => !p.Name.StartsWith("/api/", StringComparison.Ordinal));
        var scheme = json.RootElement.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer");
        Assert.Equal("http", scheme.GetProperty("type").GetString());
        Assert.Equal("bearer", scheme.GetProperty("scheme").GetString());
        var start = paths.GetProperty("/api/runs").GetProperty("post");
        Assert.True(start.GetProperty("responses").TryGetProperty("400", out _));
        Assert.Contains("Queue a new run", start.GetProperty("summary").GetString());
        Assert.True(paths.GetProperty("/api/uploads").GetProperty("post").GetProperty("requestBody").GetProperty("content").TryGetProperty("multipart/form-data", out _));
    }

    [Fact]
    public async Task Scalar_Reference_IsServedFromThisServerToSignedInUsersOnly()
    {
        using var first = await _client.GetAsync(ApiExtensions.ReferencePath);
        var at = first.Headers.Location is { } moved ? new Uri(_client.BaseAddress!, moved) : new Uri(_client.BaseAddress!, ApiExtensions.ReferencePath);
        var html = first.Headers.Location is null ? await first.Content.ReadAsStringAsync() : await _client.GetStringAsync(at);

        Assert.True(html.Contains("openapi/v1.json", StringComparison.Ordinal), html);
        var scripts = ScriptSource().Matches(html).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(scripts);
        Assert.All(scripts, s => Assert.False(Uri.TryCreate(s, UriKind.Absolute, out var u) && u.Scheme.StartsWith("http", StringComparison.Ordinal), $"{s} is loaded from another server"));
        foreach (var s in scripts)
        {
            using var script = await _client.GetAsync(new Uri(at, s));
            Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        }
        var (anonymous, _) = SignIn.NewClient(_client.BaseAddress!);
        using var refused = await anonymous.GetAsync(ApiExtensions.ReferencePath);
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await anonymous.GetAsync(ApiExtensions.DocumentPath)).StatusCode);
    }

    [GeneratedRegex("<script[^>]*\\ssrc=\"([^\"]+)\"")]
    private static partial Regex ScriptSource();
}
