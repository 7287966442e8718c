using MedZoo.Web.Runs;

namespace MedZoo.Tests.Web.Persistence.Contracts;

/// <summary>What every <see cref="IRunEventStore"/> must do: the log's tail in order, paging by number, one line per key.</summary>
public abstract class RunEventStoreContractTests : StoreContractTests
{
    private IRunEventStore Events => Engine.History;

    private static RunEventRecord Line(string runId, long seq, string message = "") =>
        new() { RunId = runId, Key = $"{runId}/{seq}", Seq = seq, Time = At((int)seq), Kind = "log", Level = EventLevel.Warning, Message = message };

    [Fact]
    public void Events_LongerLogThanLimit_ReturnsTheLastLinesInOrder()
    {
        foreach (var seq in new long[] { 5, 1, 4, 2, 3 }) Events.AddIfAbsent(Line("r", seq));
        Events.AddIfAbsent(Line("r:1", 6));

        Assert.Equal([3L, 4, 5], Events.Events("r", 3).Select(e => e.Seq));
        Assert.Equal([1L, 2, 3, 4, 5], Events.Events("r").Select(e => e.Seq));
        Assert.Empty(Events.Events("missing"));
    }

    [Fact]
    public void EventsAfter_PagesOfTwo_EveryLineOnceInOrder()
    {
        foreach (var seq in Enumerable.Range(1, 7)) Events.AddIfAbsent(Line("r", seq, $"line {seq}"));
        foreach (var seq in Enumerable.Range(1, 7)) Events.AddIfAbsent(Line("r2", seq));

        var all = new List<RunEventRecord>();
        SeqPage<RunEventRecord> page;
        var after = 0L;
        do
        {
            page = Events.EventsAfter("r", after, 2);
            all.AddRange(page.Items);
            if (page.Items.Count > 0) after = page.Items[^1].Seq;
        }
        while (page.More);

        Assert.Equal(Enumerable.Range(1, 7).Select(i => $"line {i}"), all.Select(e => e.Message));
        Assert.Equal([6L, 7], Events.EventsAfter("r", 5, 10).Items.Select(e => e.Seq));
        Assert.Empty(Events.EventsAfter("r", long.MaxValue, 10).Items);
        Assert.Throws<ArgumentOutOfRangeException>(() => Events.EventsAfter("r", 0, RunHistory.MaxPageSize + 1));
    }

    [Fact]
    public void AddIfAbsent_LineImportedTwice_IsOneLineWithEveryField()
    {
        var line = Line("r", 3, "first");

        Assert.True(Events.AddIfAbsent(line));
        Assert.False(Events.AddIfAbsent(Line("r", 3, "second")));

        var stored = Assert.Single(Events.Events("r"));
        Assert.Equivalent(line, stored, strict: true);
    }
}

public sealed class RunEventStoreContractTests_LiteDb : RunEventStoreContractTests
{
    protected override Task<StoreEngine> OpenAsync() => Task.FromResult<StoreEngine>(new LiteDbStoreEngine());
}

public sealed class RunEventStoreContractTests_Cluster(PostgresServerFixture server) : RunEventStoreContractTests, IClassFixture<PostgresServerFixture>
{
    protected override async Task<StoreEngine> OpenAsync() => await server.OpenAsync();
}
