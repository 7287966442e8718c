using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using MedZoo.Engine.Training;
using MedZoo.Web.Live;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Live;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace MedZoo.Reliability.Server;

/// <summary>One reading of the server's resident memory, <paramref name="Seconds"/> after the watched run was started.</summary>
public readonly record struct RssSample(double Seconds, long Bytes);

/// <summary>What one headless browser on the run page showed at the end: its epoch text and whether that was the final epoch.</summary>
public sealed record BrowserView(string EpochText, bool SawFinalEpoch);

/// <summary>What watching a run cost: step times unwatched and watched, events each viewer got, server memory over time.</summary>
public sealed record LoadResult(
    int Clients, int Epochs, int StepsPerRun, double UnwatchedStepSeconds, double WatchedStepSeconds,
    IReadOnlyList<int> EpochEventsPerClient, IReadOnlyList<BrowserView> Browsers, IReadOnlyList<RssSample> ServerRss)
{
    /// <summary>Memory is judged after this warm-up: the first 10 % of the watched run or its first 60 s, whichever is shorter (resident memory rises to the run's peak early by design).</summary>
    public double WarmupSeconds => ServerRss.Count == 0 ? 0 : Math.Min(0.1 * ServerRss[^1].Seconds, 60);

    /// <summary>The samples after <see cref="WarmupSeconds"/>.</summary>
    public IReadOnlyList<long> SettledRss => ServerRss.Where(s => s.Seconds >= WarmupSeconds).Select(s => s.Bytes).ToList();

    /// <summary>Whether every settled sample lies within ±<paramref name="fraction"/> of the settled mean.</summary>
    public bool RssFlat(double fraction = 0.1)
    {
        var settled = SettledRss;
        if (settled.Count == 0) return false;
        var mean = settled.Average();
        return settled.All(v => Math.Abs(v - mean) <= fraction * mean);
    }
}

/// <summary>
/// Live viewers on the real server: the same training run (the smoke preset, longer) once unwatched, then with
/// <c>clients</c> real SignalR clients of the typed hub subscribed to it (signed in with the dashboard's cookie, JSON
/// protocol as documented) and <c>browsers</c> headless Chromium pages signed in through the sign-in form and open on
/// the run's page. Counted: the mean step time of each run (the trainer's own per-step seconds from the metrics API),
/// the EpochCompleted events each client received, the epoch each browser's run page showed at the end, and the
/// server's resident memory (VmRSS) sampled every 500 ms while the watched run trains.
/// </summary>
public static class Load
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run",
    ];

    /// <summary>
    /// Trains the run unwatched, then watched; with <paramref name="pin"/> the server runs on CPU 0 and this process
    /// (hub clients, and the browsers it starts) on the other CPUs, so that the watched step time counts what serving
    /// viewers costs the server, not the viewers' own work on shared cores.
    /// </summary>
    public static async Task<LoadResult> RunAsync(string medzoo, string work, int clients, int browsers, int epochs, Action<string> progress, int stepsPerEpoch = 4, bool pin = false)
    {
        if (browsers > 0 && !File.Exists(ChromiumPath))
            throw new ArgumentException($"--browsers {browsers} needs Debian's chromium at {ChromiumPath} (scripts/prereqs.sh installs it), or --browsers 0");
        using var server = new MedZooServer(medzoo, Path.Combine(work, "load-data"));
        await server.StartAsync(TimeSpan.FromMinutes(2));
        if (pin)
        {
            if (Environment.ProcessorCount < 2) throw new ArgumentException("--pin needs at least 2 CPUs");
            Pin(server.ProcessId ?? throw new InvalidOperationException("the server is not running"), "0");
            Pin(Environment.ProcessId, $"1-{Environment.ProcessorCount - 1}");
            progress($"server pinned to CPU 0, viewers to CPUs 1-{Environment.ProcessorCount - 1}");
        }
        var cookies = new CookieContainer();
        using var http = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(60) };
        (await MedZooServer.PostSignInAsync(http, MedZooServer.AdminName, MedZooServer.AdminPassword)).Dispose();
        var o = TrainerRunExecutor.Smoke();
        o.Epochs = epochs;
        if (pin) o.Threads = 1; // one CPU: a second torch thread would only contend with the first
        o.Sampling.SamplesTrain = stepsPerEpoch * o.Sampling.BatchSize; // the issue's 20,000 steps: 100 epochs of 200 steps
        var config = RunConfigJson.Serialize(o);

        var unwatched = await TrainAsync(http, config, "unwatched", null);
        progress($"unwatched: {unwatched.Step:0.000} s per step");

        var received = new ConcurrentDictionary<int, int>();
        var connections = new List<HubConnection>();
        for (var i = 0; i < clients; i++)
        {
            var index = i;
            var c = new HubConnectionBuilder()
                .WithUrl(new Uri(server.Address, TrainingHub.Path.TrimStart('/')), h => h.Cookies = cookies)
                .AddJsonProtocol(j => LiveJson.Configure(j.PayloadSerializerOptions))
                .Build();
            c.On<long, EpochCompleted>(nameof(ITrainingClient.EpochCompleted), (_, _) => received.AddOrUpdate(index, 1, (_, n) => n + 1));
            c.On<long, StepCompleted>(nameof(ITrainingClient.StepCompleted), (_, _) => { });
            c.On<long, SlicePreview>(nameof(ITrainingClient.SlicePreview), (_, _) => { });
            await c.StartAsync();
            connections.Add(c);
        }

        using var playwright = browsers > 0 ? await Playwright.CreateAsync() : null;
        await using var browser = playwright is null ? null : await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath, Headless = true, Args = ChromiumArgs,
        });
        var pages = new List<IPage>();
        for (var i = 0; i < browsers; i++)
        {
            // Each page its own context (its own cookie), signed in through the real form: a dashboard user's session.
            var context = await browser!.NewContextAsync(new BrowserNewContextOptions { BaseURL = server.Address.ToString().TrimEnd('/') });
            context.SetDefaultTimeout(120_000);
            var page = await context.NewPageAsync();
            await SignInAsync(page);
            pages.Add(page);
        }
        progress($"{clients} hub clients and {pages.Count} browsers signed in");

        var rss = new List<RssSample>();
        var clock = new Stopwatch();
        var watched = await TrainAsync(http, config, "watched", async id =>
        {
            clock.Start();
            foreach (var c in connections) await c.InvokeAsync<RunInfo>(nameof(TrainingHub.Subscribe), id);
            // All pages at once, so that they are open before the first step (the run loads its data first).
            await Task.WhenAll(pages.Select(async p =>
            {
                await p.GotoAsync($"/runs/{id}");
                await WaitInteractiveAsync(p);
            }));
        }, () => { if (server.ProcessId is { } pid && Rss(pid) is { } v) rss.Add(new RssSample(clock.Elapsed.TotalSeconds, v)); });
        progress($"watched by {clients} clients and {pages.Count} browsers: {watched.Step:0.000} s per step");

        var views = new List<BrowserView>();
        foreach (var p in pages) views.Add(await FinalEpochAsync(p, epochs));
        foreach (var c in connections) await c.DisposeAsync();
        return new LoadResult(clients, epochs, watched.Steps, unwatched.Step, watched.Step,
            Enumerable.Range(0, clients).Select(i => received.GetValueOrDefault(i)).ToList(), views, rss);
    }

    private static async Task SignInAsync(IPage page)
    {
        await page.GotoAsync("/");
        await page.WaitForSelectorAsync("#username");
        await page.FillAsync("#username", MedZooServer.AdminName);
        await page.FillAsync("#password", MedZooServer.AdminPassword);
        await page.ClickAsync("#signin-submit");
        await WaitInteractiveAsync(page);
    }

    // The dashboard marks its live circuit (MainLayout's #mz-interactive) once connected and rendered.
    private static Task WaitInteractiveAsync(IPage page) =>
        page.WaitForSelectorAsync("#mz-interactive[data-ready=true]", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });

    /// <summary>
    /// The run page's epoch (RunDetail's <c>#run-epoch</c>, "current / total"), read from the live page without reloading it:
    /// polled for up to 30 s after the run finished, since the last live update may still be on its way.
    /// </summary>
    private static async Task<BrowserView> FinalEpochAsync(IPage page, int epochs)
    {
        var expected = $"{epochs} / {epochs}";
        var text = "(no #run-epoch on the page)";
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            try
            {
                text = (await page.EvaluateAsync<string?>("() => document.getElementById('run-epoch')?.textContent ?? null"))?.Trim() ?? text;
            }
            catch (PlaywrightException e)
            {
                text = $"(page unreadable: {e.Message.Split('\n')[0]})";
            }
            if (text == expected) return new BrowserView(text, true);
            await Task.Delay(250);
        }
        return new BrowserView(text, false);
    }

    private static async Task<(double Step, int Steps)> TrainAsync(HttpClient http, string config, string name, Func<string, Task>? subscribe, Action? sample = null)
    {
        using var started = await http.PostAsync("/api/runs", new StringContent($"{{\"name\":\"{name}\",\"config\":{config}}}", Encoding.UTF8, "application/json"));
        var run = await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<RunInfo>(started.Content, MedZooServer.Json)
                  ?? throw new InvalidOperationException($"starting the {name} run answered {(int)started.StatusCode}");
        if (subscribe is not null) await subscribe(run.Id);
        var clock = Stopwatch.StartNew();
        while (!(await MedZooServer.GetAsync<RunInfo>(http, $"/api/runs/{run.Id}")).Status.IsFinished() && clock.Elapsed < TimeSpan.FromMinutes(40))
        {
            sample?.Invoke();
            await Task.Delay(500);
        }
        var steps = (await MedZooServer.MetricsAsync(http, run.Id)).Where(m => m.Kind == MetricKind.Step).ToList();
        return (steps.Count == 0 ? double.NaN : steps.Average(s => s.Seconds), steps.Count);
    }

    // Every thread of the process (taskset -a), so threads that exist already move too; children inherit it.
    private static void Pin(int pid, string cpus)
    {
        using var p = Process.Start(new ProcessStartInfo("taskset", ["-a", "-p", "-c", cpus, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        }) ?? throw new InvalidOperationException("taskset did not start");
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"taskset -a -p -c {cpus} {pid} failed: {p.StandardError.ReadToEnd().Trim()}");
    }

    private static long? Rss(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? null : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
