using System.Security.Claims;
using System.Threading.RateLimiting;
using MedZoo.Web.Api;
using MedZoo.Web.Settings;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.HostFiltering;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace MedZoo.Web.Accounts;

/// <summary>Registers cookie sign-in, the role policies and the account services.</summary>
public static class AccountsExtensions
{
    /// <summary>The rate-limiting policy of the sign-in and setup posts (per client address).</summary>
    public const string AccountPostsPolicy = "account-posts";

    /// <summary>Host names always allowed in the Host header; <c>AllowedHosts</c> adds to them.</summary>
    public static IReadOnlyList<string> LocalHosts { get; } = ["localhost", "127.0.0.1", "[::1]"];

    /// <summary>
    /// Cookie authentication with a fallback policy that requires a signed-in user everywhere
    /// (pages, API, hub, the Blazor circuit); only endpoints marked AllowAnonymous (sign-in,
    /// setup, static assets) are open. API and hub requests get 401/403 instead of a redirect.
    /// Also: the sign-in and setup limits (<see cref="AccountSecurityOptions"/>), sessions checked
    /// against the account store (cookie on every request, circuits and hub connections every
    /// revalidation interval), the Host names served, and Secure cookies over HTTPS.
    /// </summary>
    public static WebApplicationBuilder AddMedZooAccounts(this WebApplicationBuilder builder)
    {
        builder.Services.AddSettings<AdminOptions>(builder.Configuration, AdminOptions.Section, o => o.Validate());
        builder.Services.AddSettings<AccountSecurityOptions>(builder.Configuration, AccountSecurityOptions.Section, o => o.Validate());
        builder.Services.AddSingleton<IPasswordHasher<UserRecord>, PasswordHasher<UserRecord>>();
        builder.Services.AddSingleton<UserService>();
        builder.Services.AddSingleton<SignInBackoff>();
        builder.Services.AddSingleton<SetupToken>();
        builder.Services.AddHostedService<FirstAdminBootstrap>();
        builder.Services.AddSingleton<HubSessionFilter>();
        builder.Services.Configure<HubOptions>(o => o.AddFilter<HubSessionFilter>());
        AddHostRestriction(builder);
        // Behind HTTPS (directly or through a proxy with forwarded headers) the antiforgery cookie is Secure too.
        builder.Services.AddAntiforgery(o => o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest);
        builder.Services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = async (ctx, ct) =>
            {
                ctx.HttpContext.Response.Headers.RetryAfter = "60";
                ctx.HttpContext.Response.ContentType = "text/plain; charset=utf-8";
                await ctx.HttpContext.Response.WriteAsync("too many sign-in or setup attempts from this address: wait a minute and try again", ct);
            };
            o.AddPolicy(AccountPostsPolicy, http =>
            {
                var limit = http.RequestServices.GetRequiredService<IOptions<AccountSecurityOptions>>().Value.PostsPerMinutePerAddress;
                return RateLimitPartition.GetFixedWindowLimiter(http.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                    _ => new FixedWindowRateLimiterOptions { PermitLimit = limit, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 });
            });
        });
        // Bearer requests authenticate with a personal API token only, every other request with the cookie.
        builder.Services.AddAuthentication(ApiTokenAuthenticationHandler.CookieOrToken)
            .AddApiTokens()
            .AddCookie(o =>
            {
                o.LoginPath = AccountEndpoints.SignInPath;
                o.AccessDeniedPath = AccountEndpoints.DeniedPath;
                o.Cookie.Name = "medzoo.auth";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest; // Secure whenever the dashboard is served over HTTPS
                o.SlidingExpiration = true;
                o.ExpireTimeSpan = TimeSpan.FromDays(7);
                o.Events.OnRedirectToLogin = ctx => RedirectOrStatus(ctx, StatusCodes.Status401Unauthorized);
                o.Events.OnRedirectToAccessDenied = ctx =>
                {
                    // Tell the denied page which role the refused page needs (a known role name, never free text).
                    if (Roles.RequiredRole(ctx.HttpContext.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>() ?? []) is { } role)
                        ctx.RedirectUri = QueryHelpers.AddQueryString(ctx.RedirectUri, "need", role);
                    return RedirectOrStatus(ctx, StatusCodes.Status403Forbidden);
                };
                o.Events.OnValidatePrincipal = ValidateAgainstStore;
            });
        builder.Services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddPolicy(Roles.OperatePolicy, p => p.RequireRole(Roles.Operator, Roles.Admin))
            .AddPolicy(Roles.AdministerPolicy, p => p.RequireRole(Roles.Admin));
        builder.Services.AddCascadingAuthenticationState();
        builder.Services.AddScoped<Microsoft.AspNetCore.Components.Authorization.AuthenticationStateProvider, RevalidatingUserStateProvider>();
        return builder;
    }

    private static Task RedirectOrStatus(RedirectContext<CookieAuthenticationOptions> ctx, int status)
    {
        if (ApiPaths.IsApiOrHub(ctx.Request.Path))
            ctx.Response.StatusCode = status;
        else
            ctx.Response.Redirect(ctx.RedirectUri);
        return Task.CompletedTask;
    }

    // Checked on every request (one lookup by key): a deleted account or a reset password ends the
    // session at the next request, a changed role takes effect at the next request.
    private static async Task ValidateAgainstStore(CookieValidatePrincipalContext ctx)
    {
        var users = ctx.HttpContext.RequestServices.GetRequiredService<UserService>();
        var name = ctx.Principal?.Identity?.Name;
        var user = name is null ? null : users.Find(name);
        if (!UserService.HasCurrentStamp(ctx.Principal!, user))
        {
            ctx.RejectPrincipal();
            await ctx.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        }
        else if (ctx.Principal!.FindFirstValue(ClaimTypes.Role) != user!.Role)
        {
            ctx.ReplacePrincipal(UserService.CreatePrincipal(user));
            ctx.ShouldRenew = true;
        }
    }

    // The Host header must name this server: a DNS-rebinding page (evil.example resolving to 127.0.0.1)
    // sends its own name and is refused with 400. Local names are always allowed; AllowedHosts adds more
    // (";"-separated, "*" allows any).
    private static void AddHostRestriction(WebApplicationBuilder builder) =>
        builder.Services.AddOptions<HostFilteringOptions>().Configure<IConfiguration>((o, config) =>
        {
            var configured = (config["AllowedHosts"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            o.AllowedHosts = configured.Contains("*") ? ["*"] : [.. LocalHosts.Concat(configured).Distinct(StringComparer.OrdinalIgnoreCase)];
        });
}

/// <summary>
/// Creates the configured first admin at start when no account exists yet. Otherwise, while no
/// account exists, issues the one-time setup token; once one does, removes a token file an earlier
/// start left behind.
/// </summary>
internal sealed class FirstAdminBootstrap(UserService users, SetupToken setup, IOptions<AdminOptions> options, ILogger<FirstAdminBootstrap> logger)
    : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (o.IsConfigured && !users.HasUsers)
        {
            if (users.CreateFirstAdmin(o.UserName!, o.Password!) is not null)
                logger.LogInformation("Created the admin account '{UserName}' from configuration", o.UserName);
        }
        if (users.HasUsers) setup.Revoke();
        else setup.Issue();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
