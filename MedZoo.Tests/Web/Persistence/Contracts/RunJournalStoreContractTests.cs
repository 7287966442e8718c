using MedZoo.Web.Runs;

namespace MedZoo.Tests.Web.Persistence.Contracts;

/// <summary>What every <see cref="IRunJournalStore"/> must do, alone and inside a run batch.</summary>
public abstract class RunJournalStoreContractTests : StoreContractTests
{
    private static JournalRecord Journal(long offset) => new()
    {
        Id = "run-1.jsonl", RunId = "r", Offset = offset, SeqBase = 12, Finished = offset > 100, OutputDirectory = "/out/r", FailedPasses = 1,
    };

    [Fact]
    public void SaveGetDelete_OneJournal_ReplacedByNameAndForgotten()
    {
        Assert.Null(Engine.Journals.Get("run-1.jsonl"));
        Engine.Journals.Save(Journal(10));
        var later = Journal(200);

        Engine.Journals.Save(later);
        Engine.Journals.Flush();

        Assert.Equivalent(later, Engine.Journals.Get("run-1.jsonl"), strict: true);
        Assert.True(Engine.Journals.Delete("run-1.jsonl"));
        Assert.False(Engine.Journals.Delete("run-1.jsonl"));
        Assert.Null(Engine.Journals.Get("run-1.jsonl"));
    }

    [Fact]
    public void TryClaim_HeldByAnotherImporter_RefusedUntilReleased()
    {
        var first = Engine.Journals.TryClaim("run-1.jsonl");
        Assert.NotNull(first);

        Assert.Null(Engine.Journals.TryClaim("run-1.jsonl"));
        using (var other = Engine.Journals.TryClaim("run-2.jsonl")) Assert.NotNull(other); // claims are per journal

        first.Dispose();
        using var again = Engine.Journals.TryClaim("run-1.jsonl");
        Assert.NotNull(again);
    }

    [Fact]
    public void Save_InsideAFailedRunBatch_IsRolledBackWithTheRun()
    {
        Engine.Journals.Save(Journal(10));
        Engine.Runs.Insert(new RunRecord { Id = "r", Name = "r", CreatedAt = At(0) });

        Assert.Throws<InvalidOperationException>(() => Engine.Runs.WriteBatch(() =>
        {
            Engine.Runs.Update("r", r => r.LastSeq = 40);
            Engine.Journals.Save(Journal(90));
            throw new InvalidOperationException("event could not be stored");
        }));

        Assert.Equal(10, Engine.Journals.Get("run-1.jsonl")!.Offset);
        Assert.Equal(0, Engine.Runs.Get("r")!.LastSeq);
    }
}

public sealed class RunJournalStoreContractTests_LiteDb : RunJournalStoreContractTests
{
    protected override Task<StoreEngine> OpenAsync() => Task.FromResult<StoreEngine>(new LiteDbStoreEngine());
}

public sealed class RunJournalStoreContractTests_Cluster(PostgresServerFixture server) : RunJournalStoreContractTests, IClassFixture<PostgresServerFixture>
{
    protected override async Task<StoreEngine> OpenAsync() => await server.OpenAsync();
}
