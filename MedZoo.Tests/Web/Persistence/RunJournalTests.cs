using System.Diagnostics;
using MedZoo.Engine.Training;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Persistence;
using MedZoo.Web.Runs;
using Microsoft.Extensions.Logging.Abstractions;

namespace MedZoo.Tests.Web.Persistence;

public sealed class RunJournalTests
{
    /// <summary>What a headless run uses for checkpoints: files in its output folder.</summary>
    private sealed class FolderStore(string dir) : ICheckpointStore
    {
        public string Save(string runId, string kind, int epoch, Action<Stream> write)
        {
            var path = Path.Combine(dir, $"{kind}.ckpt");
            using (var s = File.Create(path)) write(s);
            return path;
        }

        public Stream? OpenRead(string runId, string kind) => File.Exists(Path.Combine(dir, $"{kind}.ckpt")) ? File.OpenRead(Path.Combine(dir, $"{kind}.ckpt")) : null;
    }

    private static RunJournalHeader Header(string runId, int pid) => new()
    {
        RunId = runId, Name = "cli run", CreatedBy = "alice", CreatedAt = DateTime.UtcNow, ConfigJson = ScriptedRunExecutor.Json(),
        Model = "FAKE", Dataset = "synthetic", Epochs = 2, ProcessId = pid, Host = Environment.MachineName,
    };

    private static RunJournalImporter Importer(StoreFixture f) =>
        new(f.Database, f.Runs, f.Notifier, f.Recorder, f.Checkpoints, NullLogger<RunJournalImporter>.Instance);

    private static void Train(string runId, ITrainingObserver observer, ICheckpointStore store, string json)
    {
        using var control = new TrainingControl();
        new ScriptedRunExecutor().Execute(new RunExecution(runId, json, false, observer, control, store));
    }

    [Fact]
    public async Task ImportAll_FinishedHeadlessRun_AppearsWithMetricsAndCheckpoint()
    {
        await using var f = new StoreFixture();
        using var output = MedZooAppFactory.NewDataFolder();
        using (var journal = new RunJournalWriter(f.Database.Options.JournalDirectory, Header("cli-1", Environment.ProcessId)))
            Train("cli-1", journal, new FolderStore(output.Path), ScriptedRunExecutor.Json(epochs: 2, stepsPerEpoch: 3));

        await Importer(f).ImportAllAsync();

        var run = f.Runs.Get("cli-1")!;
        Assert.Equal(RunSource.Cli, run.Source);
        Assert.Equal(RunStatus.Completed, run.Status);
        Assert.Equal("alice", run.CreatedBy);
        Assert.Equal(6, f.Runs.Metrics("cli-1", MetricKind.Step).Count);
        Assert.Equal(2, f.Runs.Metrics("cli-1", MetricKind.Epoch).Count);
        Assert.Equal(2, f.Checkpoints.Find("cli-1", "last")!.Epoch);
        Assert.Empty(Directory.GetFiles(f.Database.Options.JournalDirectory)); // imported journals are removed
    }

    [Fact]
    public async Task ImportAll_GrowingJournal_ImportsCompleteLinesOnceEach()
    {
        await using var f = new StoreFixture();
        var path = RunJournal.PathFor(f.Database.Options.JournalDirectory, "cli-2");
        var lines = new List<string> { RunJournal.HeaderLine(Header("cli-2", Environment.ProcessId)) };
        for (var i = 1; i <= 4; i++)
            lines.Add(RunJournal.EventLine(i, new StepCompleted { RunId = "cli-2", Epoch = 1, Step = i, StepsPerEpoch = 10, GlobalStep = i, Loss = 1, LearningRate = 1 }));
        // Two and a half lines first, as a writer killed mid-line would leave them.
        var all = string.Join("\n", lines) + "\n";
        var cut = all.IndexOf(lines[3], StringComparison.Ordinal) + 10;
        await File.WriteAllTextAsync(path, all[..cut]);
        var importer = Importer(f);
        await importer.ImportAllAsync();
        await importer.ImportAllAsync();
        Assert.Equal([1L, 2], f.Runs.Metrics("cli-2").Select(m => m.GlobalStep));
        Assert.Equal(RunStatus.Running, f.Runs.Get("cli-2")!.Status);

        await File.WriteAllTextAsync(path, all);
        await importer.ImportAllAsync();
        Assert.Equal([1L, 2, 3, 4], f.Runs.Metrics("cli-2").Select(m => m.GlobalStep));
    }

    [Fact]
    public async Task ImportAll_WriterProcessGone_MarksTheRunInterrupted()
    {
        await using var f = new StoreFixture();
        using var gone = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        await gone.WaitForExitAsync();
        var path = RunJournal.PathFor(f.Database.Options.JournalDirectory, "cli-3");
        await File.WriteAllTextAsync(path, RunJournal.HeaderLine(Header("cli-3", gone.Id)) + "\n");

        await Importer(f).ImportAllAsync();

        var run = f.Runs.Get("cli-3")!;
        Assert.Equal(RunStatus.Interrupted, run.Status);
        Assert.Contains($"pid {gone.Id}", run.Reason);
    }

    [Fact]
    public async Task ImportAll_SecondSessionOfTheSameRun_ContinuesItsHistory()
    {
        await using var f = new StoreFixture();
        var dir = f.Database.Options.JournalDirectory;
        var importer = Importer(f);
        for (var session = 1; session <= 2; session++)
        {
            using (var journal = new RunJournalWriter(dir, Header("cli-4", Environment.ProcessId)))
            {
                journal.OnEvent(new StepCompleted { RunId = "cli-4", Epoch = session, Step = 1, StepsPerEpoch = 1, GlobalStep = session, Loss = 1, LearningRate = 1 });
                journal.OnEvent(new RunFinished { RunId = "cli-4", Outcome = session == 1 ? RunOutcome.Stopped : RunOutcome.Completed, EpochsCompleted = session });
            }
            await importer.ImportAllAsync();
        }
        var run = f.Runs.Get("cli-4")!;
        Assert.Equal(RunStatus.Completed, run.Status);
        Assert.Equal(2, run.Sessions);
        Assert.Equal([1L, 2], f.Runs.Metrics("cli-4").Select(m => m.GlobalStep));
        Assert.Equal(2, f.Runs.Events("cli-4").Count(e => e.Kind == "finished"));
    }

    [Fact]
    public void ParseLine_Corrupt_ReturnsNothing()
    {
        Assert.Equal((null, null), RunJournal.ParseLine("{not json"));
        Assert.Equal((null, null), RunJournal.ParseLine("{\"type\":\"Unknown\",\"seq\":1,\"event\":{}}"));
    }
}
