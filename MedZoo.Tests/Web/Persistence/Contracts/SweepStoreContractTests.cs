using MedZoo.Web.Sweeps;

namespace MedZoo.Tests.Web.Persistence.Contracts;

/// <summary>What every <see cref="ISweepStore"/> must do.</summary>
public abstract class SweepStoreContractTests : StoreContractTests
{
    private static SweepRecord Sweep(string id, int minute) => new()
    {
        Id = id, Name = "sweep " + id, CreatedBy = "ana", CreatedAt = At(minute), RequestJson = """{"grid":true}""", Parameters = ["LearningRate"],
        HalvingEnabled = true, HalvingMinEpochs = 2, HalvingEta = 3,
        Trials = [new SweepTrialRecord { Number = 1, RunId = "r1", Values = new() { ["LearningRate"] = "0.01" }, BestDice = 0.5, Rungs = [new() { Epoch = 2, Dice = 0.5 }] }],
    };

    [Fact]
    public void InsertGetList_SeveralSweeps_EveryFieldAndNewestFirst()
    {
        var first = Sweep("s1", 1);
        Engine.Sweeps.Insert(first);
        Engine.Sweeps.Insert(Sweep("s2", 2));

        Assert.Equivalent(first, Engine.Sweeps.Get("s1"), strict: true);
        Assert.Equal(["s2", "s1"], Engine.Sweeps.List().Select(s => s.Id));
        Assert.Null(Engine.Sweeps.Get("missing"));
    }

    [Fact]
    public async Task Update_ConcurrentWriters_NoTrialIsLost()
    {
        Engine.Sweeps.Insert(Sweep("s", 0));
        const int Writers = 4, Each = 10;

        await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(() =>
        {
            for (var i = 0; i < Each; i++)
                Engine.Sweeps.Update("s", s => s.Trials.Add(new SweepTrialRecord { Number = s.Trials.Count + 1, RunId = $"w{w}-{i}" }));
        })));

        var trials = Engine.Sweeps.Get("s")!.Trials;
        Assert.Equal(1 + Writers * Each, trials.Count);
        Assert.Equal(Enumerable.Range(1, 1 + Writers * Each), trials.Select(t => t.Number));
        Assert.Null(Engine.Sweeps.Update("missing", s => s.StopRequested = true));
    }

    [Fact]
    public void Delete_ExistingAndMissing_ReportsWhetherItActed()
    {
        Engine.Sweeps.Insert(Sweep("s", 0));

        Assert.True(Engine.Sweeps.Delete("s"));
        Assert.False(Engine.Sweeps.Delete("s"));
        Assert.Empty(Engine.Sweeps.List());
    }
}

public sealed class SweepStoreContractTests_LiteDb : SweepStoreContractTests
{
    protected override Task<StoreEngine> OpenAsync() => Task.FromResult<StoreEngine>(new LiteDbStoreEngine());
}

public sealed class SweepStoreContractTests_Cluster(PostgresServerFixture server) : SweepStoreContractTests, IClassFixture<PostgresServerFixture>
{
    protected override async Task<StoreEngine> OpenAsync() => await server.OpenAsync();
}
