using MedZoo.Engine.Training;
using MedZoo.Web.Runs;

namespace MedZoo.Tests.Web.Persistence.Contracts;

/// <summary>What every <see cref="IRunStore"/> must do, whatever engine keeps the runs.</summary>
public abstract class RunStoreContractTests : StoreContractTests
{
    protected static RunRecord NewRun(string id, int minute, RunStatus status = RunStatus.Queued, RunSource source = RunSource.Dashboard) => new()
    {
        Id = id, Name = "run " + id, Status = status, Source = source, CreatedBy = "ana", CreatedAt = At(minute), StartedAt = At(minute + 1),
        LastActivityAt = At(minute + 2), SessionStartedAt = status.IsActive() ? At(minute + 1) : null, Model = "unet3d", Dataset = "synthetic",
        Device = "cpu", ConfigJson = """{"epochs":3}""", Epochs = 3, StepsPerEpoch = 4, ClassNames = ["bg", "csf", "gm"], Modalities = ["T1"],
        BestMeanDice = 0.125, BestEpoch = 2, Reason = null, Sessions = 1, LastSeq = 7, ProcessId = null, Host = "node-a",
    };

    [Fact]
    public void InsertThenGet_EveryField_ComesBackAsStored()
    {
        var run = NewRun("r1", 0, RunStatus.Running);
        Engine.Runs.Insert(run);

        Assert.Equivalent(run, Engine.Runs.Get("r1"), strict: true);
        Assert.Equal(DateTimeKind.Utc, Engine.Runs.Get("r1")!.CreatedAt.Kind);
        Assert.Null(Engine.Runs.Get("missing"));
    }

    [Fact]
    public void List_ThreeRuns_NewestFirst()
    {
        Engine.Runs.Insert(NewRun("b", 5));
        Engine.Runs.Insert(NewRun("a", 10));
        Engine.Runs.Insert(NewRun("c", 1));

        Assert.Equal(["a", "b", "c"], Engine.Runs.List().Select(r => r.Id));
    }

    [Fact]
    public void WithStatus_MixedStates_OnlyThoseStatesOldestFirst()
    {
        Engine.Runs.Insert(NewRun("q2", 5));
        Engine.Runs.Insert(NewRun("done", 2, RunStatus.Completed));
        Engine.Runs.Insert(NewRun("q1", 3));
        Engine.Runs.Insert(NewRun("run", 9, RunStatus.Running));

        Assert.Equal(["q1", "q2"], Engine.Runs.WithStatus(RunStatus.Queued).Select(r => r.Id));
        Assert.Equal(["q1", "q2", "run"], Engine.Runs.WithStatus(RunStatus.Queued, RunStatus.Running).Select(r => r.Id));
        Assert.Empty(Engine.Runs.WithStatus(RunStatus.Failed));
    }

    [Fact]
    public void Update_StatusChange_IsStoredAndFoundByStatus()
    {
        Engine.Runs.Insert(NewRun("r", 0));

        var updated = Engine.Runs.Update("r", r => { r.Status = RunStatus.Running; r.Reason = "go"; });

        Assert.Equal(RunStatus.Running, updated!.Status);
        Assert.Equal("go", Engine.Runs.Get("r")!.Reason);
        Assert.Empty(Engine.Runs.WithStatus(RunStatus.Queued));
        Assert.Equal(["r"], Engine.Runs.WithStatus(RunStatus.Running).Select(r => r.Id));
        Assert.Null(Engine.Runs.Update("missing", r => r.Reason = "never"));
    }

    [Fact]
    public async Task Update_ConcurrentWriters_NoUpdateIsLost()
    {
        Engine.Runs.Insert(NewRun("r", 0));
        const int Writers = 4, Each = 25;

        // Each change reads the stored value and adds one: a store that does not serialize writers loses some.
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(() =>
        {
            for (var i = 0; i < Each; i++)
                Engine.Runs.Update("r", r => { r.GlobalStep++; r.ClassNames.Add($"w{w}"); });
        })));

        var run = Engine.Runs.Get("r")!;
        Assert.Equal(Writers * Each, run.GlobalStep);
        Assert.Equal(3 + Writers * Each, run.ClassNames.Count);
    }

    [Fact]
    public void WriteBatch_AllWrites_AreStoredTogether()
    {
        Engine.Runs.Insert(NewRun("r", 0));

        Engine.Runs.WriteBatch(() =>
        {
            Engine.Runs.Update("r", r => r.LastSeq = 2);
            Engine.History.Upsert(new MetricPointRecord { RunId = "r", Key = "r/step/1", Seq = 1, Kind = MetricKind.Step, GlobalStep = 1, Loss = 0.5 });
            Engine.History.AddIfAbsent(new RunEventRecord { RunId = "r", Key = "r/2", Seq = 2, Kind = "log", Message = "hello" });
        });

        Assert.Equal(2, Engine.Runs.Get("r")!.LastSeq);
        Assert.Single(Engine.History.Metrics("r"));
        Assert.Equal(["hello"], Engine.History.Events("r").Select(e => e.Message));
    }

    [Fact]
    public void WriteBatch_FailingMidway_StoresNothing()
    {
        Engine.Runs.Insert(NewRun("r", 0));

        var e = Assert.Throws<InvalidOperationException>(() => Engine.Runs.WriteBatch(() =>
        {
            Engine.Runs.Update("r", r => r.LastSeq = 2);
            Engine.History.Upsert(new MetricPointRecord { RunId = "r", Key = "r/step/1", Seq = 1, Kind = MetricKind.Step, GlobalStep = 1 });
            Engine.History.AddIfAbsent(new RunEventRecord { RunId = "r", Key = "r/2", Seq = 2, Message = "hello" });
            throw new InvalidOperationException("bad update");
        }));

        Assert.Equal("bad update", e.Message);
        Assert.Equal(7, Engine.Runs.Get("r")!.LastSeq);
        Assert.Empty(Engine.History.Metrics("r"));
        Assert.Empty(Engine.History.Events("r"));
    }

    [Fact]
    public void Delete_RunWithHistory_RemovesItsHistoryAndNoOtherRuns()
    {
        foreach (var id in new[] { "r", "other" })
        {
            Engine.Runs.Insert(NewRun(id, 0));
            Engine.History.Upsert(new MetricPointRecord { RunId = id, Key = $"{id}/step/1", Seq = 1, Kind = MetricKind.Step, GlobalStep = 1 });
            Engine.History.AddIfAbsent(new RunEventRecord { RunId = id, Key = $"{id}/1", Seq = 1, Message = id });
            Engine.History.Upsert(new SlicePreviewRecord { Id = $"{id}/Axial/3", RunId = id, Plane = SlicePlane.Axial, SliceIndex = 3, Image = [1, 2] });
        }

        Assert.True(Engine.Runs.Delete("r"));

        Assert.Null(Engine.Runs.Get("r"));
        Assert.Empty(Engine.History.Metrics("r"));
        Assert.Empty(Engine.History.Events("r"));
        Assert.Empty(Engine.History.Previews("r"));
        Assert.False(Engine.Runs.Delete("r"));
        Assert.NotNull(Engine.Runs.Get("other"));
        Assert.Single(Engine.History.Metrics("other"));
        Assert.Single(Engine.History.Events("other"));
        Assert.Single(Engine.History.Previews("other"));
        // The deleted run's keys are free again: a run recreated under its id starts with an empty history.
        Assert.True(Engine.History.AddIfAbsent(new MetricPointRecord { RunId = "r", Key = "r/step/1", Seq = 1, Kind = MetricKind.Step, GlobalStep = 1 }));
    }

    [Fact]
    public void MarkInterrupted_ActiveDashboardRuns_InterruptedAtTheirLastActivity()
    {
        Engine.Runs.Insert(NewRun("running", 0, RunStatus.Running));
        Engine.Runs.Insert(NewRun("paused", 1, RunStatus.Paused));
        Engine.Runs.Insert(NewRun("cli", 2, RunStatus.Running, RunSource.Cli));
        Engine.Runs.Insert(NewRun("queued", 3));

        var ids = Engine.Runs.MarkInterrupted("server stopped", At(60));

        Assert.Equal(["paused", "running"], ids.Order(StringComparer.Ordinal));
        var running = Engine.Runs.Get("running")!;
        Assert.Equal(RunStatus.Interrupted, running.Status);
        Assert.Equal("server stopped", running.Reason);
        Assert.Equal(60, running.ActiveSeconds, 6); // the session ran from minute 1 to its last activity at minute 2
        Assert.Equal(RunStatus.Running, Engine.Runs.Get("cli")!.Status);
        Assert.Equal(RunStatus.Queued, Engine.Runs.Get("queued")!.Status);
    }
}

public sealed class RunStoreContractTests_LiteDb : RunStoreContractTests
{
    protected override Task<StoreEngine> OpenAsync() => Task.FromResult<StoreEngine>(new LiteDbStoreEngine());
}

public sealed class RunStoreContractTests_Cluster(PostgresServerFixture server) : RunStoreContractTests, IClassFixture<PostgresServerFixture>
{
    protected override async Task<StoreEngine> OpenAsync() => await server.OpenAsync();

    [Fact]
    public async Task PostgresRestart_BetweenTwoOperations_StoreRecoversWithoutTheCallerRetrying()
    {
        Engine.Runs.Insert(NewRun("r", 0));
        Engine.History.Upsert(new MetricPointRecord { RunId = "r", Key = "r/step/1", Seq = 1, Kind = MetricKind.Step, GlobalStep = 1 });
        Assert.NotNull(Engine.Runs.Get("r")); // the pool now holds connections that the restart kills

        await server.Servers.RestartPostgresAsync();

        Assert.Equal("run r", Engine.Runs.Get("r")!.Name);
        Assert.Equal(5, Engine.Runs.Update("r", r => r.GlobalStep = 5)!.GlobalStep);
        Engine.Runs.WriteBatch(() => Engine.History.AddIfAbsent(new RunEventRecord { RunId = "r", Key = "r/2", Seq = 2, Message = "after" }));
        Assert.Equal(["after"], Engine.History.Events("r").Select(e => e.Message));
        Assert.Single(Engine.History.Metrics("r"));
    }

    [Fact]
    public async Task Schema_OpenedTwiceOnOneDatabase_IsCreatedOnceAndKeepsTheRows()
    {
        Engine.Runs.Insert(NewRun("r", 0));
        var engine = (PostgresStoreEngine)Engine;

        // A second node starting on the same database: CREATE … IF NOT EXISTS and one schema version row.
        var connection = new Npgsql.NpgsqlConnectionStringBuilder(server.Servers.Postgres) { SearchPath = SearchPathOf(engine) }.ConnectionString;
        using var second = new MedZoo.Web.Persistence.Postgres.PostgresDatabase(connection);
        Assert.Equal("run r", new MedZoo.Web.Persistence.Postgres.PostgresRunStore(second).Get("r")!.Name);
        await using var c = new Npgsql.NpgsqlConnection(connection + ";Pooling=false");
        await c.OpenAsync();
        await using var count = new Npgsql.NpgsqlCommand("SELECT count(*), max(version) FROM medzoo_schema", c);
        await using var reader = await count.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(1L, reader.GetInt64(0));
        Assert.Equal(MedZoo.Web.Persistence.Postgres.PostgresDatabase.SchemaVersion, reader.GetInt32(1));
    }

    [Fact]
    public async Task Schema_NewerVersionInTheDatabase_RefusesToStartWithAClearMessage()
    {
        var engine = (PostgresStoreEngine)Engine;
        var connection = new Npgsql.NpgsqlConnectionStringBuilder(server.Servers.Postgres) { SearchPath = engine.SearchPath, Pooling = false }.ConnectionString;
        await using (var c = new Npgsql.NpgsqlConnection(connection))
        {
            await c.OpenAsync();
            await using var newer = new Npgsql.NpgsqlCommand("UPDATE medzoo_schema SET version = 99", c);
            await newer.ExecuteNonQueryAsync();
        }

        var e = Assert.Throws<InvalidOperationException>(() => new MedZoo.Web.Persistence.Postgres.PostgresDatabase(connection));

        Assert.Contains("schema version 99", e.Message);
        Assert.Contains("upgrade MedZoo", e.Message);
    }

    private static string SearchPathOf(PostgresStoreEngine engine) => engine.SearchPath;
}
