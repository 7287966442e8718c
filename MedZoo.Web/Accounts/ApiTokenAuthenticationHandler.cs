using System.Globalization;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace MedZoo.Web.Accounts;

/// <summary>
/// Authenticates <c>Authorization: Bearer &lt;token&gt;</c> with a personal API token (<see cref="ApiTokenService"/>).
/// Failed attempts back off per client address exactly like failed sign-ins (<see cref="SignInBackoff"/>, the
/// <c>MedZoo:Accounts</c> limits): past the free failures an address waits, and meanwhile every bearer request from
/// it is answered 429 with <c>Retry-After</c> without the token being looked at. Refusals are ProblemDetails that
/// say what to do.
/// </summary>
public sealed class ApiTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiTokenService tokens, SignInBackoff backoff)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>The scheme name of token authentication.</summary>
    public const string SchemeName = "ApiToken";

    /// <summary>The app's default scheme: token authentication for bearer requests, the sign-in cookie for everything else.</summary>
    public const string CookieOrToken = "CookieOrToken";

    private const string BearerPrefix = "Bearer ";
    private TimeSpan _wait;
    private bool _failed;

    /// <summary>True when the request carries <c>Authorization: Bearer …</c> (then the cookie is never consulted).</summary>
    public static bool HasBearer(HttpRequest request) =>
        request.Headers.Authorization.ToString().StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>The back-off key of failed token attempts from one address (apart from sign-in's, so a script with a stale token does not lock its user out of the dashboard).</summary>
    public static string AddressKey(string? address) => "token-addr:" + (address ?? "unknown");

    /// <inheritdoc />
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!HasBearer(Request)) return Task.FromResult(AuthenticateResult.NoResult());
        var key = AddressKey(Context.Connection.RemoteIpAddress?.ToString());
        _wait = backoff.RetryAfter(key);
        if (_wait > TimeSpan.Zero) return Task.FromResult(AuthenticateResult.Fail("too many failed API token attempts from this address"));
        var secret = Request.Headers.Authorization.ToString()[BearerPrefix.Length..].Trim();
        var principal = tokens.Authenticate(secret);
        if (principal is null)
        {
            _failed = true;
            backoff.RecordFailure(key);
            return Task.FromResult(AuthenticateResult.Fail("the API token is not valid"));
        }
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    /// <inheritdoc />
    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (_wait > TimeSpan.Zero)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(_wait.TotalSeconds));
            Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return Problem(StatusCodes.Status429TooManyRequests, "Too many failed API token attempts",
                $"Too many requests from this address carried a wrong API token: wait {seconds} s, then send a valid token.");
        }
        Response.Headers.WWWAuthenticate = _failed ? "Bearer error=\"invalid_token\"" : "Bearer";
        return Problem(StatusCodes.Status401Unauthorized, "API token not accepted", _failed
            ? "The API token is not valid: it was revoked, mistyped, or its user was deleted or changed password. Create a new one on your API tokens page (/account/tokens)."
            : "Send a personal API token as 'Authorization: Bearer <token>'; create one on your API tokens page (/account/tokens).");
    }

    /// <inheritdoc />
    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var role = Roles.RequiredRole(Context.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>() ?? []);
        var name = Context.User.Identity?.Name ?? "this user";
        return Problem(StatusCodes.Status403Forbidden, "Role does not allow this", role is null
            ? $"The token's user '{name}' may not do this. Ask an admin for a role that does."
            : $"This needs the {role} role; the token's user '{name}' is {Context.User.FindFirst(System.Security.Claims.ClaimTypes.Role)?.Value ?? "without a role"}. Ask an admin for it.");
    }

    private Task Problem(int status, string title, string detail) =>
        Results.Problem(detail: detail, statusCode: status, title: title).ExecuteAsync(Context);
}

/// <summary>Registers token authentication next to the cookie.</summary>
public static class ApiTokenAuthenticationExtensions
{
    /// <summary>
    /// Adds the token store and service, the <see cref="ApiTokenAuthenticationHandler.SchemeName"/> handler and the
    /// <see cref="ApiTokenAuthenticationHandler.CookieOrToken"/> selector, which hands a request with a bearer header to
    /// the token handler only, never to the cookie (a wrong token is refused even when a signed-in cookie rides along).
    /// </summary>
    public static AuthenticationBuilder AddApiTokens(this AuthenticationBuilder builder)
    {
        builder.Services.AddSingleton<ApiTokenService>();
        return builder
            .AddScheme<AuthenticationSchemeOptions, ApiTokenAuthenticationHandler>(ApiTokenAuthenticationHandler.SchemeName, null)
            .AddPolicyScheme(ApiTokenAuthenticationHandler.CookieOrToken, "Cookie or API token", o => o.ForwardDefaultSelector = ctx =>
                ApiTokenAuthenticationHandler.HasBearer(ctx.Request) ? ApiTokenAuthenticationHandler.SchemeName : CookieAuthenticationDefaults.AuthenticationScheme);
    }
}
