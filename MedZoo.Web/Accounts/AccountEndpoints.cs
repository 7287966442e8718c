using MedZoo.Web.Accounts.Pages;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Endpoints;
using Microsoft.AspNetCore.Mvc;

namespace MedZoo.Web.Accounts;

/// <summary>
/// Sign-in, sign-out and first-run setup as plain HTTP form posts: a cookie cannot be set over a
/// Blazor circuit, so the static pages under /account post here. Form-bound minimal APIs validate
/// the antiforgery token that the pages render. A refused post answers with the page itself and the
/// reason (<see cref="AccountFormState"/>), never with a redirect that carries text in the URL (a
/// link could then put any text on the page). Sign-in and setup posts are rate-limited per client
/// address (<see cref="AccountsExtensions.AccountPostsPolicy"/>) and failed sign-ins back off per
/// account and address (<see cref="SignInBackoff"/>).
/// </summary>
public static class AccountEndpoints
{
    public const string SignInPath = "/account/signin";
    public const string SignOutPath = "/account/signout";
    public const string SetupPath = "/account/setup";
    public const string DeniedPath = "/account/denied";

    /// <summary>The form the sign-in page posts.</summary>
    public sealed class SignInForm
    {
        public string? UserName { get; set; }
        public string? Password { get; set; }
        public string? ReturnUrl { get; set; }
    }

    /// <summary>The form the setup page posts.</summary>
    public sealed class SetupForm
    {
        public string? UserName { get; set; }
        public string? Password { get; set; }
        public string? Confirm { get; set; }
        /// <summary>The one-time setup token (<see cref="SetupToken"/>).</summary>
        public string? Token { get; set; }
    }

    /// <summary>Maps the account endpoints.</summary>
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost(SignInPath, async ([FromForm] SignInForm form, HttpContext http, UserService users, SignInBackoff backoff) =>
        {
            var returnUrl = SafeReturnUrl(form.ReturnUrl);
            string[] keys = [SignInBackoff.AccountKey(form.UserName), SignInBackoff.AddressKey(http.Connection.RemoteIpAddress?.ToString())];
            var wait = backoff.RetryAfter(keys);
            if (wait > TimeSpan.Zero)
            {
                http.Response.Headers.RetryAfter = Seconds(wait).ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Page(http, StatusCodes.Status429TooManyRequests, new AccountFormState(
                    $"Too many failed sign-ins for this account or from this address: try again in {Seconds(wait)} s.", form.UserName, returnUrl));
            }
            var user = users.Verify(form.UserName, form.Password);
            if (user is null)
            {
                backoff.RecordFailure(keys);
                return Page(http, StatusCodes.Status401Unauthorized, new AccountFormState("Wrong user name or password.", form.UserName, returnUrl));
            }
            backoff.RecordSuccess(keys[0]);
            await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, UserService.CreatePrincipal(user));
            return Results.LocalRedirect(returnUrl);
        }).AllowAnonymous().RequireRateLimiting(AccountsExtensions.AccountPostsPolicy).WithMetadata(new ExcludeFromInteractiveRoutingAttribute());

        app.MapPost(SetupPath, async ([FromForm] SetupForm form, HttpContext http, UserService users, SetupToken setup) =>
        {
            if (users.HasUsers) return Results.Redirect(SignInPath);
            if (!setup.Matches(form.Token))
                return Page(http, StatusCodes.Status403Forbidden, new AccountFormState(
                    "The setup token is missing or not the current one: open the setup link that the server printed when it last started.", form.UserName));
            if (form.Password != form.Confirm)
                return Page(http, StatusCodes.Status400BadRequest, new AccountFormState("The two passwords differ.", form.UserName, Token: form.Token));
            try
            {
                var admin = users.CreateFirstAdmin(form.UserName ?? "", form.Password ?? "");
                if (admin is null) return Results.Redirect(SignInPath);
                setup.Revoke();
                admin = users.RecordSignIn(admin);
                await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, UserService.CreatePrincipal(admin));
                return Results.LocalRedirect("/");
            }
            catch (ArgumentException e)
            {
                return Page(http, StatusCodes.Status400BadRequest, new AccountFormState(Capitalize(UserService.MessageFor(e)) + ".", form.UserName, Token: form.Token));
            }
        }).AllowAnonymous().RequireRateLimiting(AccountsExtensions.AccountPostsPolicy).WithMetadata(new ExcludeFromInteractiveRoutingAttribute());

        app.MapPost(SignOutPath, async (HttpContext http) =>
        {
            await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return Results.Redirect(SignInPath);
        });
        return app;
    }

    /// <summary>A local path to go back to after sign-in; anything else (an open redirect) becomes "/".</summary>
    public static string SafeReturnUrl(string? url) =>
        !string.IsNullOrEmpty(url) && url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal)
            ? url : "/";

    // The account page of the request's path, rendered with what the post was refused for.
    private static IResult Page(HttpContext http, int status, AccountFormState state) =>
        new AccountPageResult(http.Request.Path == SetupPath ? typeof(Setup) : typeof(SignIn), status, state);

    /// <summary>
    /// Renders an account page as the answer to its refused post: through the page's own endpoint (so it
    /// gets the app's document, layout and antiforgery token exactly as on a GET), handing it the reason.
    /// The page's endpoint sees a GET: the post was handled here, there is no Blazor form to dispatch.
    /// </summary>
    private sealed class AccountPageResult(Type page, int status, AccountFormState state) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            var endpoint = http.RequestServices.GetRequiredService<EndpointDataSource>().Endpoints
                .First(e => e.Metadata.GetMetadata<ComponentTypeMetadata>()?.Type == page);
            http.Items[AccountFormState.Key] = state;
            http.Response.StatusCode = status;
            http.Request.Method = HttpMethods.Get;
            http.SetEndpoint(endpoint);
            return endpoint.RequestDelegate!.Invoke(http);
        }
    }

    private static int Seconds(TimeSpan wait) => (int)Math.Ceiling(wait.TotalSeconds);

    private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];
}

/// <summary>
/// What a refused account post hands to the page it renders (through <see cref="HttpContext.Items"/>):
/// the reason, and what the user typed so they need not type it again (never the password).
/// </summary>
public sealed record AccountFormState(string Error, string? UserName, string? ReturnUrl = null, string? Token = null)
{
    /// <summary>Key in <see cref="HttpContext.Items"/>.</summary>
    public const string Key = "medzoo.account-form";

    /// <summary>The state of the current request's refused post, or null.</summary>
    public static AccountFormState? Of(HttpContext? http) => http?.Items[Key] as AccountFormState;
}
