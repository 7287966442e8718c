using MedZoo.Web.Runs;

namespace MedZoo.Tests.Web.Persistence.Contracts;

/// <summary>What every <see cref="IMetricStore"/> must do: chart order, paging by sequence number, keyed upserts.</summary>
public abstract class MetricStoreContractTests : StoreContractTests
{
    private IMetricStore Metrics => Engine.History;

    private void Store(string runId, int points)
    {
        foreach (var i in Enumerable.Range(1, points))
        {
            var kind = i % 10 == 0 ? MetricKind.Epoch : MetricKind.Step;
            Metrics.Upsert(new MetricPointRecord
            {
                RunId = runId, Key = $"{runId}/{kind}/{i}", Seq = i, Kind = kind, GlobalStep = i, Epoch = i / 10, Loss = i / 100.0,
            });
        }
    }

    [Theory]
    [InlineData("a")]
    [InlineData("a:1")]
    [InlineData("a%")]
    [InlineData("a::b")]
    public void MetricsAfter_RunIdsThatPrefixEachOther_PagesOnlyThatRunInOrder(string runId)
    {
        foreach (var id in new[] { "a", "a:1", "a%", "a::b", "a:" }) Store(id, 25);

        var all = new List<MetricPointRecord>();
        SeqPage<MetricPointRecord> page;
        var after = 0L;
        do
        {
            page = Metrics.MetricsAfter(runId, after, 4);
            Assert.InRange(page.Items.Count, 1, 4);
            all.AddRange(page.Items);
            after = page.Items[^1].Seq;
        }
        while (page.More);

        Assert.All(all, m => Assert.Equal(runId, m.RunId));
        Assert.Equal(Enumerable.Range(1, 25).Select(i => (long)i), all.Select(m => m.Seq));
        Assert.Equal([10L, 20], Metrics.MetricsAfter(runId, 0, 100, MetricKind.Epoch).Items.Select(m => m.Seq));
        Assert.Equal([21L, 22, 23, 24, 25], Metrics.MetricsAfter(runId, 20, 100, MetricKind.Step).Items.Select(m => m.Seq));
        Assert.Empty(Metrics.MetricsAfter(runId, 25, 10).Items);
        Assert.False(Metrics.MetricsAfter(runId, 25, 10).More);
        Assert.Empty(Metrics.MetricsAfter(runId, long.MaxValue, 10).Items);
        Assert.Equal(25, Metrics.MetricsAfter(runId, -5, 100).Items.Count);
    }

    [Fact]
    public void MetricsAfter_PointsSharingANumberAtAPageEdge_StayOnOnePage()
    {
        // Epochs restored from a checkpoint share the number of the event that revealed them.
        foreach (var (seq, i) in new long[] { 1, 2, 3, 3, 3, 4, 5 }.Select((s, i) => (s, i)))
            Metrics.AddIfAbsent(new MetricPointRecord { RunId = "r", Key = $"r/epoch/{i + 1}", Seq = seq, Kind = MetricKind.Epoch, Epoch = i + 1 });

        var pages = new List<List<int>>();
        SeqPage<MetricPointRecord> page;
        var after = 0L;
        do
        {
            page = Metrics.MetricsAfter("r", after, 3);
            pages.Add(page.Items.Select(m => m.Epoch).Order().ToList()); // points sharing a number come in any order
            if (page.Items.Count > 0) after = page.Items[^1].Seq;
        }
        while (page.More);

        Assert.Equal([[1, 2, 3, 4, 5], [6, 7]], pages);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(RunHistory.MaxPageSize + 1)]
    public void MetricsAfter_LimitOutOfRange_Throws(int limit) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Metrics.MetricsAfter("a", 0, limit));

    [Fact]
    public void Metrics_ReplayedStep_ChartOrderIsStepsByStepThenEpochsByEpoch()
    {
        Metrics.Upsert(new MetricPointRecord { RunId = "r", Key = "r/epoch/2", Seq = 9, Kind = MetricKind.Epoch, Epoch = 2 });
        Metrics.Upsert(new MetricPointRecord { RunId = "r", Key = "r/epoch/1", Seq = 4, Kind = MetricKind.Epoch, Epoch = 1 });
        foreach (var step in new[] { 3, 1, 2 })
            Metrics.Upsert(new MetricPointRecord { RunId = "r", Key = $"r/step/{step}", Seq = step, Kind = MetricKind.Step, GlobalStep = step });
        // Step 2 replayed after a resume: a newer number, the same place on the chart.
        Metrics.Upsert(new MetricPointRecord { RunId = "r", Key = "r/step/2", Seq = 12, Kind = MetricKind.Step, GlobalStep = 2, Loss = 0.25 });

        Assert.Equal([(MetricKind.Step, 1L), (MetricKind.Step, 2), (MetricKind.Step, 3), (MetricKind.Epoch, 1), (MetricKind.Epoch, 2)],
            Metrics.Metrics("r").Select(m => (m.Kind, m.Kind == MetricKind.Step ? m.GlobalStep : m.Epoch)));
        Assert.Equal([1, 2], Metrics.Metrics("r", MetricKind.Epoch).Select(m => m.Epoch));
        Assert.Equal(0.25, Metrics.Metrics("r", MetricKind.Step)[1].Loss);
        Assert.Equal([1L, 3, 12], Metrics.MetricsAfter("r", 0, 10, MetricKind.Step).Items.Select(m => m.Seq));
    }

    [Fact]
    public void Upsert_SameKey_ReplacesThePointWithEveryField()
    {
        var point = new MetricPointRecord
        {
            RunId = "r", Key = "r/epoch/1", Seq = 5, Kind = MetricKind.Epoch, Epoch = 1, Loss = 0.5, LearningRate = 1e-3, Dice = [0.1, 0.2],
            ValidationLoss = 0.4, MeanDice = 0.15, IsBest = true, Seconds = 1.5, Time = At(3),
            Validation = [new ClassMetricsRecord { Name = "gm", Dice = 0.7, Iou = 0.5, Precision = 0.8, Recall = 0.6, Hd95 = 3.5, Assd = 1.25 }],
        };
        Metrics.Upsert(new MetricPointRecord { RunId = "r", Key = "r/epoch/1", Seq = 4, Kind = MetricKind.Epoch, Epoch = 1, Loss = 9 });

        Metrics.Upsert(point);

        var stored = Assert.Single(Metrics.Metrics("r"));
        Assert.Equivalent(point, stored, strict: true);
    }

    [Fact]
    public void AddIfAbsent_SameKeyTwice_KeepsTheFirst()
    {
        Assert.True(Metrics.AddIfAbsent(new MetricPointRecord { RunId = "r", Key = "r/epoch/1", Seq = 3, Kind = MetricKind.Epoch, Epoch = 1, Loss = 1 }));
        Assert.False(Metrics.AddIfAbsent(new MetricPointRecord { RunId = "r", Key = "r/epoch/1", Seq = 8, Kind = MetricKind.Epoch, Epoch = 1, Loss = 2 }));

        var stored = Assert.Single(Metrics.Metrics("r"));
        Assert.Equal(1, stored.Loss);
        Assert.Equal(3, stored.Seq);
    }
}

public sealed class MetricStoreContractTests_LiteDb : MetricStoreContractTests
{
    protected override Task<StoreEngine> OpenAsync() => Task.FromResult<StoreEngine>(new LiteDbStoreEngine());
}

public sealed class MetricStoreContractTests_Cluster(PostgresServerFixture server) : MetricStoreContractTests, IClassFixture<PostgresServerFixture>
{
    protected override async Task<StoreEngine> OpenAsync() => await server.OpenAsync();
}
