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

    public static Task<BrowserSession> LaunchAsync() => LaunchAsync(Args);

    /// <summary>
    /// A browser with WebGL 2 drawn on the CPU by SwiftShader through ANGLE (without a GPU, and without
    /// --disable-gpu, which leaves WebGL to a deprecated fallback): for pages that render with WebGL (NiiVue).
    /// </summary>
    public static Task<BrowserSession> LaunchWithWebGlAsync() =>
        LaunchAsync([.. Args.Where(a => a != "--disable-gpu"), "--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]);

    private static async Task<BrowserSession> LaunchAsync(IEnumerable<string> args)
    {
        RequireChromium();
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath, Headless = true, Args = args,
        });
        return new BrowserSession(playwright, browser);
    }

    /// <summary>A fresh browser context (its own cookies: another user) with a page.</summary>
    public async Task<IPage> NewPageAsync(Uri baseAddress)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseAddress.ToString().TrimEnd('/') });
        context.SetDefaultTimeout(TimeoutMs);
        var page = await context.NewPageAsync();
        Record(page);
        return page;
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<IPage, System.Collections.Concurrent.ConcurrentQueue<string>> Logs = new();

    /// <summary>Keeps what the page printed and how its connections ended, for <see cref="DescribeAsync"/>.</summary>
    private static void Record(IPage page)
    {
        var log = Logs.GetOrCreateValue(page);
        var start = System.Diagnostics.Stopwatch.StartNew();
        void Add(string line)
        {
            log.Enqueue($"{start.Elapsed.TotalSeconds,7:0.000}s {line}");
            while (log.Count > 200) log.TryDequeue(out _);
        }
        page.Console += (_, m) => Add($"console.{m.Type}: {m.Text}");
        page.PageError += (_, e) => Add($"page error: {e}");
        page.FrameNavigated += (_, f) => { if (f.ParentFrame is null) Add($"navigated to {f.Url}"); };
        page.WebSocket += (_, ws) =>
        {
            Add($"websocket opened {ws.Url}");
            ws.Close += (_, _) => Add($"websocket closed {ws.Url}");
            ws.SocketError += (_, e) => Add($"websocket error {ws.Url}: {e}");
        };
    }

    /// <summary>
    /// What a test needs to know when a page did not do what it waited for: its URL, whether
    /// Blazor shows its reconnect dialog, and the page's recent console and connection log.
    /// </summary>
    public static async Task<string> DescribeAsync(IPage page)
    {
        string state;
        try
        {
            state = await page.EvaluateAsync<string>(
                "() => { const m = document.getElementById('components-reconnect-modal'); return (m ? 'reconnect dialog: ' + (m.open ?? '') + ' ' + m.className : 'no reconnect dialog') + '; ready=' + (document.querySelector('#mz-interactive')?.dataset.ready ?? 'none'); }");
        }
        catch (PlaywrightException e)
        {
            state = $"page state unavailable: {e.Message}";
        }
        var log = Logs.TryGetValue(page, out var q) ? string.Join("\n  ", q) : "(not recorded)";
        return $"url {page.Url}; {state}\n  {log}";
    }

    /// <summary>
    /// Waits until the page's address matches <paramref name="url"/>, by polling it. Playwright's
    /// WaitForURLAsync checks the address once and then waits for a navigation event: a Blazor
    /// navigation (history.pushState) that lands between the two is never seen, and the test hung
    /// with the page already at the right address (seen in CI on both the live-run and the review
    /// tests). Polling has no such gap.
    /// </summary>
    public static async Task WaitForUrlAsync(IPage page, System.Text.RegularExpressions.Regex url, float timeoutMs = TimeoutMs)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!url.IsMatch(await CurrentUrlAsync(page)))
        {
            if (clock.ElapsedMilliseconds > timeoutMs)
                throw new TimeoutException($"the page did not go to {url} within {timeoutMs / 1000:0} s: {await DescribeAsync(page)}");
            await Task.Delay(50);
        }
    }

    // The browser's own location where it can be read (a page being replaced cannot answer: then the last known address).
    private static async Task<string> CurrentUrlAsync(IPage page)
    {
        try
        {
            return await page.EvaluateAsync<string>("() => location.href");
        }
        catch (PlaywrightException)
        {
            return page.Url;
        }
    }

    /// <summary>Clicks <paramref name="selector"/> and waits until the page's address matches <paramref name="url"/> (a server-side NavigateTo after the click).</summary>
    public static async Task ClickAndWaitForUrlAsync(IPage page, string selector, System.Text.RegularExpressions.Regex url)
    {
        await page.ClickAsync(selector);
        try
        {
            await WaitForUrlAsync(page, url);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"after clicking {selector}: {e.Message}", e);
        }
    }

    /// <summary>Signs in through the form and waits for the interactive dashboard.</summary>
    public static async Task SignInAsync(IPage page, string user, string password, string path = "/")
    {
        await page.GotoAsync(path);
        await WaitForUrlAsync(page, new System.Text.RegularExpressions.Regex("/account/signin"));
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
