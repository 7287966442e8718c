using Microsoft.Playwright;

namespace MedZoo.Tests.E2E;

/// <summary>
/// Headless Debian Chromium driven by Playwright (its own browser download is not available here,
/// DESIGN.md §4). Tests call <see cref="RequireChromium"/> first: without /usr/bin/chromium they
/// are skipped with the reason instead of failing.
/// </summary>
public sealed class BrowserSession : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";

    /// <summary>Longest wait for something the page should show (live updates arrive well within it).</summary>
    public const float TimeoutMs = 90_000; // generous: under the whole suite a 2-core machine answers slowly; it catches hangs, not slowness

    private static readonly string[] Args =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run",
    ];

    private readonly IPlaywright _playwright;

    private BrowserSession(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    public static void RequireChromium() =>
        Skip.IfNot(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: install Debian's chromium (scripts/prereqs.sh does) to run browser tests");

    public static async Task<BrowserSession> LaunchAsync()
    {
        RequireChromium();
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath, Headless = true, Args = Args,
        });
        return new BrowserSession(playwright, browser);
    }

    /// <summary>A fresh browser context (its own cookies: another user) with a page.</summary>
    public async Task<IPage> NewPageAsync(Uri baseAddress)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseAddress.ToString().TrimEnd('/') });
        context.SetDefaultTimeout(TimeoutMs);
        return await context.NewPageAsync();
    }

    /// <summary>Signs in through the form and waits for the interactive dashboard.</summary>
    public static async Task SignInAsync(IPage page, string user, string password, string path = "/")
    {
        await page.GotoAsync(path);
        await page.WaitForURLAsync("**/account/signin**");
        await page.FillAsync("#username", user);
        await page.FillAsync("#password", password);
        await page.ClickAsync("#signin-submit");
        await WaitInteractiveAsync(page);
    }

    /// <summary>Loads a page and waits until its circuit is live (clicks on a prerendered page are lost).</summary>
    public static async Task GotoAsync(IPage page, string path)
    {
        await page.GotoAsync(path);
        await WaitInteractiveAsync(page);
    }

    /// <summary>Waits until the dashboard's circuit is connected and has rendered.</summary>
    public static Task WaitInteractiveAsync(IPage page) =>
        page.WaitForSelectorAsync("#mz-interactive[data-ready=true]", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });

    /// <summary>Waits until a JavaScript condition holds on the page.</summary>
    public static Task WaitAsync(IPage page, string condition, object? arg = null) =>
        page.WaitForFunctionAsync(condition, arg, new PageWaitForFunctionOptions { Timeout = TimeoutMs, PollingInterval = 100 });

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
    }
}
