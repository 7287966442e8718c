using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;

namespace MedZoo.Web.Accounts;

/// <summary>
/// Sign-in, sign-out and first-run setup as plain HTTP form posts: a cookie cannot be set over a
/// Blazor circuit, so the static pages under /account post here. Form-bound minimal APIs validate
/// the antiforgery token that the pages render.
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
    }

    /// <summary>Maps the account endpoints.</summary>
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost(SignInPath, async ([FromForm] SignInForm form, HttpContext http, UserService users) =>
        {
            var returnUrl = SafeReturnUrl(form.ReturnUrl);
            var user = users.Verify(form.UserName, form.Password);
            if (user is null)
                return Results.Redirect($"{SignInPath}?error=1&ReturnUrl={Uri.EscapeDataString(returnUrl)}");
            await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, UserService.CreatePrincipal(user));
            return Results.LocalRedirect(returnUrl);
        }).AllowAnonymous();

        app.MapPost(SetupPath, async ([FromForm] SetupForm form, HttpContext http, UserService users) =>
        {
            if (users.HasUsers) return Results.Redirect(SignInPath);
            if (form.Password != form.Confirm)
                return Results.Redirect($"{SetupPath}?error={Uri.EscapeDataString("the two passwords differ")}");
            try
            {
                var admin = users.CreateFirstAdmin(form.UserName ?? "", form.Password ?? "");
                if (admin is null) return Results.Redirect(SignInPath);
                await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, UserService.CreatePrincipal(admin));
                return Results.LocalRedirect("/");
            }
            catch (ArgumentException e)
            {
                return Results.Redirect($"{SetupPath}?error={Uri.EscapeDataString(FirstSentence(e.Message))}");
            }
        }).AllowAnonymous();

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

    // ArgumentException appends " (Parameter 'x')"; the page shows only the sentence.
    private static string FirstSentence(string message)
    {
        var i = message.IndexOf(" (Parameter", StringComparison.Ordinal);
        return i < 0 ? message : message[..i];
    }
}
