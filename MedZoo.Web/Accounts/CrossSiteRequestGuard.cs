namespace MedZoo.Web.Accounts;

/// <summary>
/// Refuses state-changing requests (every method but GET, HEAD, OPTIONS and TRACE, and every
/// WebSocket handshake: the hub and the dashboard's circuit) that a browser sent from another
/// origin. SameSite cookies do not stop them: a page on another port of the same host is
/// same-site, so the browser sends the cookie. Browsers mark every such request with
/// <c>Sec-Fetch-Site</c> and <c>Origin</c>; clients that send neither (scripts, the tests'
/// HttpClient) are not browsers, cannot be driven by another site, and pass.
/// </summary>
public static class CrossSiteRequestGuard
{
    /// <summary>Adds the check to the pipeline.</summary>
    public static IApplicationBuilder UseCrossSiteRequestGuard(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            if (Refusal(context.Request) is { } why)
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                context.Response.ContentType = "text/plain; charset=utf-8";
                await context.Response.WriteAsync(why);
                return;
            }
            await next(context);
        });

    /// <summary>Why the request is refused, or null when it may proceed.</summary>
    public static string? Refusal(HttpRequest request)
    {
        // API requests with a bearer token are exempt, and only because they carry no ambient credentials. The guard
        // exists because a browser attaches the sign-in cookie to requests that another origin's page makes; it
        // never attaches an "Authorization: Bearer" header of its own (the ambient kinds are cookies and cached
        // Basic/Digest/NTLM credentials). A page can set that header only through fetch/XHR, which for another origin
        // needs a CORS preflight this server never grants, and only with a token it already holds. And such a request
        // is authenticated by its token alone: the CookieOrToken scheme hands any request with a bearer header to the
        // token handler and never looks at the cookie, so a page cannot borrow the user's session by adding a bogus
        // token (ApiTokenAuthenticationTests prove both: a cookie request is still refused, a cookie plus a wrong
        // token gets 401). Pages, forms and the hubs stay guarded whatever headers they carry.
        if (request.Path.StartsWithSegments("/api") && ApiTokenAuthenticationHandler.HasBearer(request)) return null;
        var upgrade = request.Headers.Upgrade.ToString();
        var isWebSocket = upgrade.Equals("websocket", StringComparison.OrdinalIgnoreCase);
        if (!isWebSocket && (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)
                             || HttpMethods.IsOptions(request.Method) || HttpMethods.IsTrace(request.Method)))
            return null;

        // Sec-Fetch-Site is set by the browser itself and cannot be forged by a page; "none" is the user's own action.
        var site = request.Headers["Sec-Fetch-Site"].ToString();
        if (site.Length > 0)
            return site is "same-origin" or "none" ? null : Describe(request, $"a page of another origin ({site})");

        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0) return null;
        var own = $"{request.Scheme}://{request.Host.Value}";
        return string.Equals(origin, own, StringComparison.OrdinalIgnoreCase) ? null : Describe(request, origin);
    }

    private static string Describe(HttpRequest request, string from) =>
        $"refused: {request.Method} {request.Path} came from {from}; changes are accepted only from the dashboard's own pages (or from clients that are not browsers)";
}
