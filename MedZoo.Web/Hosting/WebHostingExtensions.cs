using MedZoo.Web.Accounts;
using MedZoo.Web.Api;
using MedZoo.Web.Cluster;
using MedZoo.Web.Components;
using MedZoo.Web.Datasets;
using MedZoo.Web.Models;
using MedZoo.Web.Persistence;
using MedZoo.Web.Reviews;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Live;
using MedZoo.Web.Settings;
using MedZoo.Web.Sweeps;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using MudBlazor.Services;

namespace MedZoo.Web.Hosting;

/// <summary>Service registration and request pipeline of the dashboard (keeps Program.cs short).</summary>
public static class WebHostingExtensions
{
    /// <summary>Default address when neither --urls nor ASPNETCORE_URLS nor configuration sets one.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5000";

    public static WebApplicationBuilder AddMedZooWeb(this WebApplicationBuilder builder)
    {
        // Static assets (MudBlazor's css/js) are served from the build output when not published.
        builder.WebHost.UseStaticWebAssets();
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
            builder.WebHost.UseUrls(DefaultUrl);

        builder.AddMedZooAccounts();
        builder.AddMedZooRuns();
        if (ClusterOptions.IsEnabled(builder.Configuration)) builder.AddMedZooCluster(); // PostgreSQL + Hangfire (issue 17)
        else builder.AddMedZooLiteDbStorage();
        builder.AddMedZooDatasets();
        builder.AddMedZooModels();
        builder.AddMedZooReviews();
        builder.Services.AddMedZooSweeps();
        builder.AddMedZooApi();
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        // Notices go bottom right: top right they cover the run page's Stop and Resume buttons.
        builder.Services.AddMudServices(o => o.SnackbarConfiguration.PositionClass = MudBlazor.Defaults.Classes.Position.BottomRight);
        return builder;
    }

    public static WebApplication UseMedZooWeb(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/Error", createScopeForErrors: true);
            app.UseHsts(); // only on HTTPS requests (directly or through a proxy's forwarded headers), never for localhost
        }
        // Page requests get a friendly 404 page; API, hub and form posts get the bare status code (a re-executed
        // page would turn their 401/403 into a sign-in redirect).
        app.UseWhen(ctx => HttpMethods.IsGet(ctx.Request.Method) && !ApiPaths.IsApiOrHub(ctx.Request.Path),
            b => b.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true));
        app.UseMedZooApiProblems();
        app.UseCrossSiteRequestGuard();
        app.UseRateLimiter();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();
        // The sign-in page needs the stylesheets before anyone is signed in.
        app.MapStaticAssets().AllowAnonymous();
        app.MapAccountEndpoints();
        app.MapRunEndpoints();
        app.MapReviewEndpoints();
        app.MapSweepEndpoints();
        app.MapMedZooApiDocs();
        app.MapHub<TrainingHub>(TrainingHub.Path);
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();

        app.Lifetime.ApplicationStarted.Register(() => PrintWelcome(app));
        return app;
    }

    private static void PrintWelcome(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var data = app.Services.GetRequiredService<IOptions<DataOptions>>().Value;
        var users = app.Services.GetRequiredService<UserService>();
        var admin = app.Services.GetRequiredService<IOptions<AdminOptions>>().Value;
        foreach (var a in addresses)
            Console.WriteLine($"MedZoo dashboard: {a}");
        Console.WriteLine($"Data folder: {data.DataDirectory}");
        // A wildcard address (0.0.0.0 in the container) is no place a browser can open: print the local name.
        var first = (addresses.FirstOrDefault() ?? DefaultUrl).Replace("://0.0.0.0", "://localhost", StringComparison.Ordinal)
            .Replace("://[::]", "://localhost", StringComparison.Ordinal).Replace("://+", "://localhost", StringComparison.Ordinal);
        if (!users.HasUsers && app.Services.GetRequiredService<SetupToken>().Current is { } token)
            Console.WriteLine($"No accounts yet: open {first.TrimEnd('/')}{AccountEndpoints.SetupPath}?token={token} to create the first admin " +
                              $"(the token is also in {SetupToken.FileName} in the data folder; or set " +
                              $"{AdminOptions.Section.Replace(":", "__", StringComparison.Ordinal)}__UserName and __Password).");
        else if (admin.IsConfigured)
            Console.WriteLine($"Sign in as '{admin.UserName}' with the configured password.");
        else
            Console.WriteLine("Sign in with your MedZoo account.");
        if (AllInterfacesHint(addresses, app.Configuration["AllowedHosts"]) is { } hint)
            Console.WriteLine(hint);
    }

    /// <summary>
    /// What to tell an operator who serves on every interface but allows only local host names: other machines
    /// reach the server by its name or address and would be refused (400) with no hint in the browser.
    /// </summary>
    internal static string? AllInterfacesHint(IEnumerable<string> addresses, string? allowedHosts)
    {
        var wildcard = addresses.Any(a => a.Contains("://0.0.0.0", StringComparison.Ordinal) || a.Contains("://[::]", StringComparison.Ordinal)
                                          || a.Contains("://+", StringComparison.Ordinal) || a.Contains("://*", StringComparison.Ordinal));
        var extra = (allowedHosts ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Except(AccountsExtensions.LocalHosts, StringComparer.OrdinalIgnoreCase).Any();
        return wildcard && !extra
            ? "Serving on every interface, but only local host names are allowed: to open the dashboard from another machine, " +
              "name this one with AllowedHosts (e.g. --AllowedHosts medzoo.lab.example;10.0.0.5), or browsers get 400 Bad Request."
            : null;
    }
}
