using MedZoo.Reliability;
using MedZoo.Reliability.Server;

namespace MedZoo.Tests.Reliability;

/// <summary>
/// The live-viewer load's judgement of server memory (flat within ±10 % after a warm-up of the first 10 % of the run
/// or 60 s, whichever is shorter) and its report of the browsers. The run itself is the `load` verb of the harness.
/// </summary>
public sealed class LoadResultTests
{
    private const long MiB = 1024 * 1024;

    // A sample every 500 ms over `seconds`, `bytes(t)` at each.
    private static List<RssSample> Samples(double seconds, Func<double, long> bytes) =>
        Enumerable.Range(0, (int)(seconds * 2) + 1).Select(i => new RssSample(i * 0.5, bytes(i * 0.5))).ToList();

    private static LoadResult Result(IReadOnlyList<RssSample> rss, params BrowserView[] browsers) =>
        new(Clients: 2, Epochs: 3, StepsPerRun: 30, UnwatchedStepSeconds: 1, WatchedStepSeconds: 1.01,
            EpochEventsPerClient: [3, 3], Browsers: browsers, ServerRss: rss);

    [Fact]
    public void RssFlat_RiseToPeakWithinWarmup_IsFlat()
    {
        // 200 s run: warm-up 20 s; memory climbs from 200 to 600 MiB in the first 15 s, then stays there.
        var r = Result(Samples(200, t => t < 15 ? (long)((200 + t / 15 * 400) * MiB) : 600 * MiB));

        Assert.Equal(20, r.WarmupSeconds, 3);
        Assert.True(r.RssFlat());
        Assert.DoesNotContain(r.SettledRss, b => b < 600 * MiB);
    }

    [Fact]
    public void WarmupSeconds_LongRun_CappedAtSixtySeconds()
    {
        // 2,000 s run: 10 % would be 200 s; memory rises until 100 s, which the 60 s warm-up does not hide.
        var r = Result(Samples(2000, t => t < 100 ? (long)((300 + t * 3) * MiB) : 600 * MiB));

        Assert.Equal(60, r.WarmupSeconds, 3);
        Assert.False(r.RssFlat());
    }

    [Fact]
    public void RssFlat_GrowthAfterWarmup_IsNotFlat()
    {
        // Steady growth of 1 MiB/s over 400 s (a leak): 440 to 800 MiB after the 40 s warm-up.
        var r = Result(Samples(400, t => (long)((400 + t) * MiB)));

        Assert.False(r.RssFlat());
    }

    [Fact]
    public void RssFlat_NoSamples_IsNotFlat() => Assert.False(Result([]).RssFlat());

    [Fact]
    public void Markdown_Load_ReportsBrowsersAndWarmupRule()
    {
        var r = Result(Samples(100, _ => 500 * MiB), new BrowserView("3 / 3", true), new BrowserView("2 / 3", false));

        var text = Markdown.Load(r, "medzoo-reliability load --browsers 2");

        Assert.Contains("2 headless Chromium pages", text);
        Assert.Contains("Browsers whose run page showed the final epoch (3 / 3): 1 of 2", text);
        Assert.Contains("browser 2 showed \"2 / 3\"", text);
        Assert.Contains("first 10 % of the watched run or its first 60 s, whichever is shorter (here 10.0 s)", text);
        Assert.Contains("(flat within ±10 %)", text);
    }
}
