using MedZoo.Tests.Web.Support;
using MedZoo.Web.Persistence;
using MedZoo.Web.Runs;

namespace MedZoo.Tests.Web.Persistence;

public sealed class RunRepositoryPagingTests
{
    private static void Store(StoreFixture f, string runId, int points)
    {
        f.Database.Metrics.InsertBulk(Enumerable.Range(1, points).Select(i => new MetricPointRecord
        {
            RunId = runId, Seq = i, Kind = i % 10 == 0 ? MetricKind.Epoch : MetricKind.Step, GlobalStep = i,
        }));
        f.Database.Events.InsertBulk(Enumerable.Range(1, points).Select(i => new RunEventRecord { RunId = runId, Seq = i, Message = runId }));
    }

    [Theory]
    [InlineData("a")]
    [InlineData("a:1")]
    [InlineData("a:Step")]
    [InlineData("a::b")]
    public async Task MetricsAfter_RunIdsThatPrefixEachOther_ReturnOnlyThatRunsPointsInOrder(string runId)
    {
        await using var f = new StoreFixture();
        foreach (var id in new[] { "a", "a:1", "a:Step", "a::b", "a:" }) Store(f, id, 25);

        var all = new List<MetricPointRecord>();
        SeqPage<MetricPointRecord> page;
        var after = 0L;
        do
        {
            page = f.Runs.MetricsAfter(runId, after, 4);
            Assert.InRange(page.Items.Count, 1, 4);
            all.AddRange(page.Items);
            after = page.Items[^1].Seq;
        }
        while (page.More);
        Assert.All(all, m => Assert.Equal(runId, m.RunId));
        Assert.Equal(Enumerable.Range(1, 25).Select(i => (long)i), all.Select(m => m.Seq));

        Assert.Equal([10L, 20], f.Runs.MetricsAfter(runId, 0, 100, MetricKind.Epoch).Items.Select(m => m.Seq));
        Assert.All(f.Runs.MetricsAfter(runId, 0, 100, MetricKind.Epoch).Items, m => Assert.Equal(runId, m.RunId));
        var events = f.Runs.EventsAfter(runId, 20, 100);
        Assert.False(events.More);
        Assert.Equal([21L, 22, 23, 24, 25], events.Items.Select(e => e.Seq));
        Assert.All(events.Items, e => Assert.Equal(runId, e.Message));
        Assert.Equal([23L, 24, 25], f.Runs.Events(runId, 3).Select(e => e.Seq));
        Assert.Empty(f.Runs.MetricsAfter(runId, 25, 10).Items);
        Assert.Empty(f.Runs.MetricsAfter(runId, long.MaxValue, 10).Items);
        Assert.All(f.Runs.Events(runId, 100), e => Assert.Equal(runId, e.Message));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(RunRepository.MaxPageSize + 1)]
    public async Task MetricsAfter_LimitOutOfRange_Throws(int limit)
    {
        await using var f = new StoreFixture();
        Assert.Throws<ArgumentOutOfRangeException>(() => f.Runs.MetricsAfter("a", 0, limit));
        Assert.Throws<ArgumentOutOfRangeException>(() => f.Runs.EventsAfter("a", 0, limit));
    }

    [Fact]
    public async Task MetricsAfter_PointsSharingANumberAtAPageEdge_StayOnOnePage()
    {
        // Epochs restored from a checkpoint share the number of the event that revealed them.
        await using var f = new StoreFixture();
        f.Database.Metrics.InsertBulk(new long[] { 1, 2, 3, 3, 3, 4, 5 }.Select((seq, i) => new MetricPointRecord
        {
            RunId = "r", Seq = seq, Kind = MetricKind.Epoch, Epoch = i + 1,
        }));

        var all = new List<MetricPointRecord>();
        SeqPage<MetricPointRecord> page;
        var after = 0L;
        do
        {
            page = f.Runs.MetricsAfter("r", after, 3);
            all.AddRange(page.Items);
            if (page.Items.Count > 0) after = page.Items[^1].Seq;
        }
        while (page.More);

        Assert.Equal(Enumerable.Range(1, 7), all.Select(m => m.Epoch).Order());
    }
}
