using MedZoo.Engine.Benchmarking;

namespace MedZoo.Tests.Engine.Benchmarking;

public class TrainerRunStatisticsTests
{
    [Fact]
    public void WaitPercent_WarmupSkipped_MedianNearestRankP95AndMaxOfTheRest()
    {
        // Step 0 is warm-up (a 50 % wait) and must not count; then 20 steps of 1 s waiting 0.00..0.19 s.
        var steps = Enumerable.Repeat(1.0, 21).ToArray();
        var waits = new[] { 0.5 }.Concat(Enumerable.Range(0, 20).Select(i => i / 100.0)).ToArray();

        var p = TrainerRunStatistics.WaitPercent(steps, waits, from: 1)!;

        Assert.Equal(20, p.Steps);
        Assert.Equal(9.5, p.Median, 9);
        Assert.Equal(18, p.P95, 9);   // nearest rank: the 19th of 20 sorted values
        Assert.Equal(19, p.Max, 9);
    }

    [Fact]
    public void WaitPercent_ShareOfEachStep_NotOfTheTotals()
    {
        // A short step that waits half its time and a long one that waits nothing: per step 50 % and 0 %.
        var p = TrainerRunStatistics.WaitPercent([0.2, 10.0], [0.1, 0.0], from: 0)!;

        Assert.Equal(25, p.Median, 9);
        Assert.Equal(50, p.Max, 9);
    }

    [Fact]
    public void WaitPercent_NoStepLeftAfterWarmup_IsNull() =>
        Assert.Null(TrainerRunStatistics.WaitPercent([1.0, 1.0], [0.0, 0.0], from: 2));

    [Fact]
    public void WaitPercent_SeriesOfDifferentLengths_SaysWhatIsExpected()
    {
        var e = Assert.Throws<ArgumentException>(() => TrainerRunStatistics.WaitPercent([1.0, 1.0], [0.0], from: 0));
        Assert.Contains("one of each per step", e.Message);
    }

    [Fact]
    public void SlopePer100Steps_LinearGrowthAfterWarmup_IsTheGrowthPer100Steps()
    {
        // A jump during warm-up (index 0..4), then +0.3 MB per step: 30 MB per 100 steps.
        var rss = Enumerable.Range(0, 50).Select(i => i < 5 ? 100.0 * i : 600 + 0.3 * i).ToArray();

        Assert.Equal(30, TrainerRunStatistics.SlopePer100Steps(rss, from: 5), 9);
        Assert.True(TrainerRunStatistics.SlopePer100Steps(rss, from: 0) > 30, "the warm-up jump would count if it were not skipped");
    }

    [Fact]
    public void SlopePer100Steps_SawtoothAroundAFlatLevel_IsNearZero()
    {
        // Saws by ±15 MB (+, −, −, + every 4 steps: no trend within a period) around 500 MB.
        var rss = Enumerable.Range(0, 200).Select(i => 500.0 + (i % 4 is 0 or 3 ? 15 : -15)).ToArray();

        Assert.Equal(0, TrainerRunStatistics.SlopePer100Steps(rss, from: 0), 9);
    }

    [Fact]
    public void SlopePer100Steps_FewerThanTwoValues_IsZero() =>
        Assert.Equal(0, TrainerRunStatistics.SlopePer100Steps([5.0, 6.0], from: 1));
}
