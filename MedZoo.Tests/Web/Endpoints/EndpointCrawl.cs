using System.Net;
using System.Reflection;
using MedZoo.Web.Accounts;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Components.Endpoints;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;

namespace MedZoo.Tests.Web.Endpoints;

/// <summary>One request of a crawl: an endpoint's route with sample values, sent with one HTTP method.</summary>
public sealed record CrawlRequest(RouteEndpoint Endpoint, string Method, string Path)
{
    public override string ToString() => $"{Method} {Path} ({Endpoint.RoutePattern.RawText})";
}

/// <summary>
/// Access crawls generated from the app's own endpoint table (<see cref="EndpointDataSource"/>: minimal APIs,
/// Razor component pages, the hubs, the Blazor circuit's endpoints, static assets), never from a hand-written
/// list of URLs, so an endpoint someone adds is crawled without anyone remembering to add it here.
/// </summary>
public static class EndpointCrawl
{
    /// <summary>Methods tried on an endpoint that accepts any method.</summary>
    public static IReadOnlyList<string> AnyMethod { get; } = ["GET", "POST", "PUT", "DELETE", "PATCH"];

    private static readonly string[] MutatingMethods = ["POST", "PUT", "DELETE", "PATCH"];

    /// <summary>
    /// Paths that answer anonymous visitors by design: the sign-in, sign-out, setup and access-denied pages and
    /// their form posts. Everything else that answers must be a static asset.
    /// </summary>
    public static IReadOnlyList<string> OpenPaths { get; } =
        [AccountEndpoints.SignInPath, AccountEndpoints.SignOutPath, AccountEndpoints.SetupPath, AccountEndpoints.DeniedPath];

    /// <summary>Every routable endpoint of the running app.</summary>
    public static IReadOnlyList<RouteEndpoint> Endpoints(IServiceProvider services) =>
        services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .OrderBy(e => e.RoutePattern.RawText, StringComparer.Ordinal).ToList();

    /// <summary>A static file mapped by MapStaticAssets (open to everyone so the sign-in page has its styles).</summary>
    public static bool IsStaticAsset(Endpoint e) =>
        e.Metadata.Any(m => m.GetType().FullName == "Microsoft.AspNetCore.StaticAssets.StaticAssetDescriptor");

    /// <summary>An endpoint of a SignalR hub (the training hub or Blazor's circuit hub): its methods are checked by calling them.</summary>
    public static bool IsHub(Endpoint e) => e.Metadata.GetMetadata<HubMetadata>() is not null;

    /// <summary>A Razor component page (<c>@page</c>).</summary>
    public static bool IsPage(Endpoint e) => e.Metadata.GetMetadata<ComponentTypeMetadata>() is not null;

    /// <summary>The methods to send: those the endpoint declares, or every usual one when it accepts any.</summary>
    public static IReadOnlyList<string> Methods(Endpoint e) =>
        e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods is { Count: > 0 } m ? m.Where(x => x != "HEAD" && x != "OPTIONS").ToList() : AnyMethod;

    /// <summary>True when anonymous visitors are meant to reach the endpoint (the account pages, static files).</summary>
    public static bool IsOpenByDesign(RouteEndpoint e) =>
        IsStaticAsset(e) || IsApiReferenceAsset(e) || OpenPaths.Any(p => string.Equals("/" + e.RoutePattern.RawText?.TrimStart('/'), p, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// A file of the API reference's own bundle (Scalar maps its scripts and icon anonymously, like static assets: public
    /// library code, no data). Only fixed file names under the reference's path count; its page and the OpenAPI document
    /// need sign-in and are crawled.
    /// </summary>
    public static bool IsApiReferenceAsset(RouteEndpoint e) =>
        e.RoutePattern.Parameters.Count == 0 && e.Metadata.GetMetadata<IAllowAnonymous>() is not null
        && ("/" + e.RoutePattern.RawText?.TrimStart('/')).StartsWith(MedZoo.Web.Api.ApiExtensions.ReferencePath + "/", StringComparison.Ordinal)
        && Path.GetExtension(e.RoutePattern.RawText) is ".js" or ".css" or ".svg" or ".png";

    /// <summary>The route with every parameter replaced by a sample value (<paramref name="values"/> by name, else "x").</summary>
    public static string SamplePath(RoutePattern pattern, IReadOnlyDictionary<string, string>? values = null)
    {
        var parts = new List<string>();
        foreach (var segment in pattern.PathSegments)
        {
            var text = string.Concat(segment.Parts.Select(p => p switch
            {
                RoutePatternLiteralPart l => l.Content,
                RoutePatternSeparatorPart s => s.Content,
                RoutePatternParameterPart q => values is not null && values.TryGetValue(q.Name, out var v) ? v
                    : q.ParameterPolicies.Any(c => c.Content is "int" or "long") ? "1" : "x",
                _ => "",
            }));
            parts.Add(text);
        }
        return "/" + string.Join('/', parts);
    }

    /// <summary>Every (endpoint, method) pair of <paramref name="endpoints"/> as a request with sample route values.</summary>
    public static IReadOnlyList<CrawlRequest> Requests(IEnumerable<RouteEndpoint> endpoints, IReadOnlyDictionary<string, string>? values = null) =>
        endpoints.SelectMany(e => Methods(e).Select(m => new CrawlRequest(e, m, SamplePath(e.RoutePattern, values)))).ToList();

    /// <summary>
    /// The endpoint's effective authorization policy (its Authorize data combined with the fallback policy when it
    /// has none), or null when anonymous access is allowed.
    /// </summary>
    public static async Task<AuthorizationPolicy?> EffectivePolicyAsync(Endpoint e, IServiceProvider services)
    {
        if (e.Metadata.GetMetadata<IAllowAnonymous>() is not null) return null;
        var provider = services.GetRequiredService<IAuthorizationPolicyProvider>();
        var data = e.Metadata.GetOrderedMetadata<IAuthorizeData>();
        var policies = e.Metadata.GetOrderedMetadata<AuthorizationPolicy>();
        return await AuthorizationPolicy.CombineAsync(provider, data, policies) ?? await provider.GetFallbackPolicyAsync();
    }

    /// <summary>True when <paramref name="policy"/> refuses a signed-in viewer (it requires a role a viewer does not have).</summary>
    public static bool RefusesViewer(AuthorizationPolicy? policy) =>
        policy is not null && policy.Requirements.OfType<RolesAuthorizationRequirement>().Any(r => !r.AllowedRoles.Contains(Roles.Viewer));

    /// <summary>True when the endpoint accepts a method that changes state.</summary>
    public static bool AcceptsMutation(Endpoint e) => Methods(e).Any(m => MutatingMethods.Contains(m));

    /// <summary>
    /// Mutating endpoints a viewer may reach must be one of the kinds that are safe by construction: the account
    /// forms, a hub (its methods carry their own policies, crawled separately), a component page (a static form
    /// post needs the page's antiforgery token and only re-renders the page) or Blazor's circuit endpoints. Any
    /// other POST/PUT/DELETE/PATCH without an operator or admin requirement is a finding.
    /// </summary>
    public static async Task<IReadOnlyList<string>> UnguardedMutationsAsync(IEnumerable<RouteEndpoint> endpoints, IServiceProvider services)
    {
        var findings = new List<string>();
        foreach (var e in endpoints.Where(AcceptsMutation))
        {
            if (IsOpenByDesign(e) || IsHub(e) || IsPage(e) || e.RoutePattern.RawText?.TrimStart('/').StartsWith("_blazor", StringComparison.Ordinal) == true) continue;
            if (!RefusesViewer(await EffectivePolicyAsync(e, services)))
                findings.Add($"{string.Join('/', Methods(e))} {e.RoutePattern.RawText}: changes state but does not require the operator or admin role");
        }
        return findings;
    }

    /// <summary>Operator and admin methods of a hub type (those whose Authorize attributes refuse a viewer).</summary>
    public static async Task<IReadOnlyList<MethodInfo>> GuardedHubMethodsAsync(Type hub, IServiceProvider services)
    {
        var provider = services.GetRequiredService<IAuthorizationPolicyProvider>();
        var result = new List<MethodInfo>();
        foreach (var m in hub.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
        {
            var data = m.GetCustomAttributes<AuthorizeAttribute>(inherit: true).Concat(hub.GetCustomAttributes<AuthorizeAttribute>(inherit: true)).ToList();
            if (RefusesViewer(await AuthorizationPolicy.CombineAsync(provider, data))) result.Add(m);
        }
        return result;
    }

    /// <summary>
    /// True when a response refuses an anonymous visitor: 401, 403, 404 or 405, or a redirect to the sign-in page.
    /// Anything else (a 2xx, a 400 from a handler, a 500, a redirect elsewhere) means the request reached the app.
    /// </summary>
    public static bool IsAnonymousRefusal(HttpResponseMessage r) =>
        r.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed
        || IsRedirectTo(r, AccountEndpoints.SignInPath);

    /// <summary>True when a response refuses a signed-in user for lack of a role: 403, or a redirect to the access-denied page.</summary>
    public static bool IsForbidden(HttpResponseMessage r) =>
        r.StatusCode == HttpStatusCode.Forbidden || IsRedirectTo(r, AccountEndpoints.DeniedPath);

    private static bool IsRedirectTo(HttpResponseMessage r, string path)
    {
        if ((int)r.StatusCode is < 300 or > 399 || r.Headers.Location is not { } location) return false;
        var target = location.IsAbsoluteUri ? location.AbsolutePath : location.OriginalString.Split('?')[0];
        return string.Equals(target, path, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Sends every request; returns those whose answer <paramref name="refused"/> does not accept, with what came back.</summary>
    public static async Task<IReadOnlyList<string>> CrawlAsync(HttpClient client, IEnumerable<CrawlRequest> requests, Func<HttpResponseMessage, bool> refused)
    {
        var findings = new List<string>();
        foreach (var q in requests)
        {
            using var request = new HttpRequestMessage(new HttpMethod(q.Method), q.Path);
            if (q.Method is "POST" or "PUT" or "PATCH") request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
            using var response = await client.SendAsync(request);
            if (!refused(response))
                findings.Add($"{q}: answered {(int)response.StatusCode} {response.StatusCode}{(response.Headers.Location is { } l ? " -> " + l : "")}");
        }
        return findings;
    }
}
