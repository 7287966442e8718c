using MedZoo.Tests.Cluster;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Runs;
using Microsoft.Playwright;
using static MedZoo.Tests.Web.Support.AppTestHelpers;

namespace MedZoo.Tests.E2E;

/// <summary>
/// Live charts in a real browser: the run page's loss chart grows step by step from points the
/// server appends (one whole load, then deltas), holds what the server counts at every step, and
/// a reload draws the same count from the stored history. js/charts.js downsamples long lines
/// per pixel column itself, keeping spikes and gaps.
/// </summary>
public class LiveChartsE2ETests(Xunit.Abstractions.ITestOutputHelper output) : E2ETest
{
    // What the loss chart's canvas holds and how it got there, next to what the server rendered.
    private const string LossChart = """
        () => {
            const div = document.querySelector('#chart-loss'), c = div?.querySelector('canvas');
            return c?.dataset.points === undefined ? null
                : [div.dataset.points, c.dataset.points, c.dataset.loads, c.dataset.received].map(Number);
        }
        """;

    private static async Task<LossState> StateAsync(IPage page)
    {
        var s = await page.EvaluateAsync<int[]>(LossChart);
        return new LossState(s[0], s[1], s[2], s[3]);
    }

    private static Task WaitPointsAsync(IPage page, int points) =>
        BrowserSession.WaitAsync(page, $"() => ({LossChart})()?.[1] === {points}");

    [SkippableFact]
    public async Task RunPage_LiveSteps_LossChartAppendsAndAReloadDrawsTheSameCount()
    {
        BrowserSession.RequireChromium();
        using var folder = MedZooAppFactory.NewDataFolder();
        var executor = new ScriptedRunExecutor { StepGate = new SemaphoreSlim(0) };
        await using var app = NewApp(folder.Path, executor);
        var address = app.Start();
        const int epochs = 3, stepsPerEpoch = 4;
        var run = app.Service().Start(Admin, "append", ScriptedRunExecutor.Json(epochs: epochs, stepsPerEpoch: stepsPerEpoch, validateEvery: 1));
        executor.StepGate.Release(3);
        await app.WaitForRunAsync(run.Id, r => r.GlobalStep == 3, "three steps");

        await using var browser = await BrowserSession.LaunchAsync();
        var page = await browser.NewPageAsync(address);
        await BrowserSession.SignInAsync(page, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword, $"/runs/{run.Id}");
        await page.WaitForSelectorAsync("[data-status=Running]");
        await WaitPointsAsync(page, 3);

        // Each step adds a loss point, and each epoch its train and validation points: the browser
        // appends them to what it holds and matches the server's count, without a second whole load.
        var held = 3;
        for (var step = 4; step <= 2 * stepsPerEpoch + 1; step++)
        {
            executor.StepGate.Release();
            var epochsDone = step / stepsPerEpoch; // an epoch ends right after its last step
            var expected = step + 2 * epochsDone;
            await WaitPointsAsync(page, expected);
            var state = await StateAsync(page);
            Assert.Equal(expected, state.Server);
            Assert.Equal(1, state.Loads);
            Assert.InRange(state.Received, 1, expected - held);
            held = expected;
        }

        // A new page draws the whole history at once: the same count.
        await BrowserSession.GotoAsync(page, $"/runs/{run.Id}");
        await page.WaitForSelectorAsync("[data-status=Running]");
        await WaitPointsAsync(page, held);
        var reloaded = await StateAsync(page);
        Assert.Equal((held, 1, held), (reloaded.Server, reloaded.Loads, reloaded.Received));

        // Long lines are drawn per pixel column: lowest and highest of each, so a spike and a gap survive.
        var drawn = await page.EvaluateAsync<double[]>("""
            async () => {
                const { downsample } = await import('/js/charts.js');
                const x = [], y = [];
                for (let i = 0; i < 10000; i++) { x.push(i); y.push(i === 4321 ? 100 : i >= 7000 && i < 7300 ? null : 1); }
                const d = downsample(x, y, 0, 9999, 100);
                return [d.x.length, Math.max(...d.y.filter(v => v !== null)), d.y.filter(v => v === null).length, d.x.every((v, i) => i === 0 || v > d.x[i - 1]) ? 1 : 0];
            }
            """);
        Assert.InRange(drawn[0], 100, 200);
        Assert.Equal(100, drawn[1]);
        Assert.Equal(3, drawn[2]); // 300 missing points fill 3 columns: each stays a gap
        Assert.Equal(1, drawn[3]);

        // Drawing cost in the browser for two 2,000-point lines on a 600-pixel canvas: one appended point against all
        // lines sent again (what every tick did before), both including the downsampling.
        var cost = await page.EvaluateAsync<double[]>("""
            async () => {
                const { draw } = await import('/js/charts.js');
                const c = document.createElement('canvas');
                c.style.width = '600px'; c.style.height = '220px';
                document.body.appendChild(c);
                const line = (n, k) => ({ name: 'l' + k, color: '#1565c0', x: [...Array(n).keys()], y: Array.from({ length: n }, (_, i) => Math.sin(i / 50 + k)) });
                const whole = seq => ({ seq, base: null, series: [line(2000, 0), line(2000, 1), line(20, 2)] });
                draw(c, whole(1));
                let t = performance.now();
                for (let i = 0; i < 200; i++) draw(c, { seq: i + 2, base: i + 1, series: [{ x: [2000 + i], y: [0.5] }, { x: [], y: [] }, { x: [], y: [] }] });
                const delta = (performance.now() - t) / 200;
                const held = [Number(c.dataset.points), Number(c.dataset.drawn)];
                t = performance.now();
                for (let i = 0; i < 200; i++) draw(c, whole(1000 + i));
                const full = (performance.now() - t) / 200;
                c.remove();
                return [delta, full, ...held];
            }
            """);
        output.WriteLine($"charts.js, 2 x 2,000 + 20 points on 600 px: {cost[0]:0.00} ms per appended point, {cost[1]:0.00} ms per whole redraw; {cost[2]} points held, {cost[3]} drawn");
        Assert.Equal(4220, cost[2]);
        Assert.InRange(cost[3], 1000, 2 * 2 * 600 + 20); // at most the lowest and highest per pixel column

        executor.StepGate.Release(epochs * stepsPerEpoch);
        await app.WaitForStatusAsync(run.Id, RunStatus.Completed);
    }

    private sealed record LossState(int Server, int Points, int Loads, int Received);
}

/// <summary>The same tests with the dashboard as a cluster web node whose runs a worker trains.</summary>
[Collection(ClusterHosts.Collection)]
public sealed class LiveChartsE2ETests_Cluster(ClusterHosts cluster, Xunit.Abstractions.ITestOutputHelper output) : LiveChartsE2ETests(output)
{
    protected override IDashboardHosts Hosts => cluster;
}
