using System.Security.Claims;
using MedZoo.Web.Persistence;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;

namespace MedZoo.Web.Accounts;

/// <summary>Registers cookie sign-in, the role policies and the account services.</summary>
public static class AccountsExtensions
{
    /// <summary>
    /// Cookie authentication with a fallback policy that requires a signed-in user everywhere
    /// (pages, API, hub, the Blazor circuit); only endpoints marked AllowAnonymous (sign-in,
    /// setup, static assets) are open. API and hub requests get 401/403 instead of a redirect.
    /// </summary>
    public static WebApplicationBuilder AddMedZooAccounts(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<AdminOptions>(builder.Configuration.GetSection(AdminOptions.Section));
        builder.Services.AddSingleton<IPasswordHasher<UserDocument>, PasswordHasher<UserDocument>>();
        builder.Services.AddSingleton<UserService>();
        builder.Services.AddHostedService<FirstAdminBootstrap>();
        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(o =>
            {
                o.LoginPath = AccountEndpoints.SignInPath;
                o.AccessDeniedPath = AccountEndpoints.DeniedPath;
                o.Cookie.Name = "medzoo.auth";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.SlidingExpiration = true;
                o.ExpireTimeSpan = TimeSpan.FromDays(7);
                o.Events.OnRedirectToLogin = ctx => RedirectOrStatus(ctx, StatusCodes.Status401Unauthorized);
                o.Events.OnRedirectToAccessDenied = ctx => RedirectOrStatus(ctx, StatusCodes.Status403Forbidden);
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
        if (Hosting.WebHostingExtensions.IsApiOrHub(ctx.Request.Path))
            ctx.Response.StatusCode = status;
        else
            ctx.Response.Redirect(ctx.RedirectUri);
        return Task.CompletedTask;
    }

    // A deleted account or a changed role takes effect at the next request, not when the cookie expires.
    private static Task ValidateAgainstStore(CookieValidatePrincipalContext ctx)
    {
        var users = ctx.HttpContext.RequestServices.GetRequiredService<UserService>();
        var name = ctx.Principal?.Identity?.Name;
        var user = name is null ? null : users.Find(name);
        if (user is null)
        {
            ctx.RejectPrincipal();
        }
        else if (ctx.Principal!.FindFirstValue(ClaimTypes.Role) != user.Role)
        {
            ctx.ReplacePrincipal(UserService.CreatePrincipal(user));
            ctx.ShouldRenew = true;
        }
        return Task.CompletedTask;
    }
}

/// <summary>Creates the configured first admin at start when no account exists yet.</summary>
internal sealed class FirstAdminBootstrap(UserService users, Microsoft.Extensions.Options.IOptions<AdminOptions> options, ILogger<FirstAdminBootstrap> logger)
    : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (o.IsConfigured && !users.HasUsers)
        {
            users.CreateFirstAdmin(o.UserName!, o.Password!);
            logger.LogInformation("Created the admin account '{UserName}' from configuration", o.UserName);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
