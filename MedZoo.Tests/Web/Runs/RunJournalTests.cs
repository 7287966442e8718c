using System.Diagnostics;
using MedZoo.Engine.Checkpoints;
using MedZoo.Engine.Training;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Persistence;
using MedZoo.Web.Runs;
using Microsoft.Extensions.Logging.Abstractions;

namespace MedZoo.Tests.Web.Runs;

public sealed class RunJournalTests
{
    /// <summary>What a headless run uses for checkpoints: files in its output folder (in MedZoo's layout, the scripted bytes as weights).</summary>
    private sealed class FolderStore(string dir) : ICheckpointStore
    {
        public string Save(string runId, string kind, int epoch, Action<Stream> write)
        {
            var path = Path.Combine(dir, $"{kind}.ckpt");
            File.WriteAllBytes(path, TestCheckpoints.Bytes(runId, kind, epoch));
            return path;
        }

        public Stream? OpenRead(string runId, string kind) => File.Exists(Path.Combine(dir, $"{kind}.ckpt")) ? File.OpenRead(Path.Combine(dir, $"{kind}.ckpt")) : null;
    }

    private static RunJournalHeader Header(string runId, int pid, string? output = null) => new()
    {
        RunId = runId, Name = "cli run", CreatedBy = "alice", CreatedAt = DateTime.UtcNow, ConfigJson = ScriptedRunExecutor.Json(),
        Model = "FAKE", Dataset = "synthetic", Epochs = 2, ProcessId = pid, Host = Environment.MachineName, OutputDirectory = output,
    };

    private static RunJournalImporter Importer(StoreFixture f) =>
        new(f.DataOptions, f.Runs, new JournalRepository(f.Database), f.Notifier, f.Recorder, f.Checkpoints, NullLogger<RunJournalImporter>.Instance);

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
        using (var journal = new RunJournalWriter(f.Database.Options.JournalDirectory, Header("cli-1", Environment.ProcessId, output.Path)))
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
        // ... and only once their events are in the data file, not just in LiteDB's write queue or log
        var log = new FileInfo(Path.Combine(f.Folder.Path, "medzoo-log.db"));
        Assert.True(!log.Exists || log.Length == 0, $"medzoo-log.db holds {log.Length} bytes after the journal was deleted");
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
    private static StepCompleted Step(string runId, int step) =>
        new() { RunId = runId, Epoch = 1, Step = step, StepsPerEpoch = 10, GlobalStep = step, Loss = 1, LearningRate = 1 };

    /// <summary>Writes a journal as <paramref name="lines"/> (each followed by a newline); returns its path.</summary>
    private static string WriteJournal(StoreFixture f, string runId, IEnumerable<string> lines, int? pid = null)
    {
        var path = Path.Combine(f.Database.Options.JournalDirectory, $"{runId}.{pid ?? Environment.ProcessId}.20261206000000000{RunJournal.Extension}");
        File.WriteAllText(path, string.Concat(lines.Select(l => l + "\n")));
        return path;
    }

    private static int DeadPid()
    {
        using var gone = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        gone.WaitForExit();
        return gone.Id;
    }

    private static string QuarantineReason(StoreFixture f, string journalPath)
    {
        var moved = Path.Combine(f.Database.Options.QuarantineDirectory, Path.GetFileName(journalPath));
        Assert.False(File.Exists(journalPath));
        Assert.True(File.Exists(moved), "the journal is in quarantine/");
        return File.ReadAllText(moved + ".reason.txt");
    }

    public static TheoryData<string> HostileCheckpoints => new() { "environ", "keys", "symlink", "device", "kind", "other-run", "too-big", "not-a-checkpoint", "no-output-folder" };

    [Theory]
    [MemberData(nameof(HostileCheckpoints))]
    public async Task ImportAll_CheckpointThatIsNotTheRunsOwn_IsNotStored(string hostile)
    {
        await using var f = new StoreFixture();
        using var output = MedZooAppFactory.NewDataFolder();
        var kind = hostile == "kind" ? "evil" : "last";
        var own = Path.Combine(output.Path, kind + ".ckpt");
        var location = own;
        switch (hostile)
        {
            case "environ":
                location = "/proc/self/environ";
                break;
            case "keys":
                location = Path.Combine(f.Folder.Path, "keys", "key-1.xml");
                Directory.CreateDirectory(Path.GetDirectoryName(location)!);
                File.WriteAllBytes(location, TestCheckpoints.Bytes("cli", "last", 1)); // even a valid checkpoint elsewhere is refused
                break;
            case "symlink":
                var elsewhere = Path.Combine(f.Folder.Path, "elsewhere.ckpt");
                File.WriteAllBytes(elsewhere, TestCheckpoints.Bytes("cli", "last", 1));
                File.CreateSymbolicLink(own, elsewhere);
                break;
            case "device":
                File.CreateSymbolicLink(own, "/dev/zero");
                break;
            case "other-run":
                File.WriteAllBytes(own, TestCheckpoints.Bytes("someone-else", "last", 1));
                break;
            case "too-big":
                f.Database.Options.MaxImportedCheckpointBytes = 10_000;
                File.WriteAllBytes(own, TestCheckpoints.Bytes("cli", "last", 1, weightBytes: 20_000));
                break;
            case "not-a-checkpoint":
                File.WriteAllText(own, "<key>secret</key>");
                break;
            default:
                File.WriteAllBytes(own, TestCheckpoints.Bytes("cli", kind, 1));
                break;
        }
        var path = WriteJournal(f, "cli",
        [
            RunJournal.HeaderLine(Header("cli", Environment.ProcessId, hostile == "no-output-folder" ? null : output.Path)),
            RunJournal.EventLine(1, new CheckpointSaved { RunId = "cli", Epoch = 1, Kind = kind, Location = location }),
            RunJournal.EventLine(2, Step("cli", 1)),
            RunJournal.EventLine(3, new RunFinished { RunId = "cli", Outcome = RunOutcome.Completed, EpochsCompleted = 1 }),
        ]);

        await Importer(f).ImportAllAsync();

        Assert.Equal(RunStatus.Completed, f.Runs.Get("cli")!.Status);
        Assert.Single(f.Runs.Metrics("cli", MetricKind.Step)); // the rest of the journal is imported
        Assert.Null(f.Checkpoints.Find("cli", kind));
        Assert.Empty(f.Database.CheckpointFiles.FindAll());
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task ImportAll_OwnCheckpoint_IsStored()
    {
        await using var f = new StoreFixture();
        using var output = MedZooAppFactory.NewDataFolder();
        var bytes = TestCheckpoints.Bytes("cli", "best", 2);
        File.WriteAllBytes(Path.Combine(output.Path, "best.ckpt"), bytes);
        WriteJournal(f, "cli",
        [
            RunJournal.HeaderLine(Header("cli", Environment.ProcessId, output.Path)),
            RunJournal.EventLine(1, new CheckpointSaved { RunId = "cli", Epoch = 2, Kind = "best", Location = Path.Combine(output.Path, "sub", "..", "best.ckpt") }),
        ]);
        await Importer(f).ImportAllAsync();
        using var stored = f.Checkpoints.OpenRead("cli", "best")!;
        using var copy = new MemoryStream();
        stored.CopyTo(copy);
        Assert.Equal(bytes, copy.ToArray());
    }

    [Fact]
    public async Task ImportAll_HeaderNamingADashboardRun_IsQuarantinedAndTheRunUntouched()
    {
        await using var f = new StoreFixture();
        f.AddRun("dash");
        var path = WriteJournal(f, "dash",
        [
            RunJournal.HeaderLine(Header("dash", Environment.ProcessId)),
            RunJournal.EventLine(1, new RunFinished { RunId = "dash", Outcome = RunOutcome.Failed, Reason = "taken over" }),
        ]);

        await Importer(f).ImportAllAsync();

        var run = f.Runs.Get("dash")!;
        Assert.Equal(RunStatus.Running, run.Status);
        Assert.Equal(RunSource.Dashboard, run.Source);
        Assert.Equal(0, run.Sessions);
        Assert.Empty(f.Runs.Events("dash"));
        Assert.Contains("started from the dashboard", QuarantineReason(f, path));
    }

    [Fact]
    public async Task ImportAll_CorruptLines_AreSkippedAndTheJournalsAfterThemImported()
    {
        await using var f = new StoreFixture();
        WriteJournal(f, "a-cli",
        [
            RunJournal.HeaderLine(Header("a-cli", Environment.ProcessId)),
            RunJournal.EventLine(1, Step("a-cli", 1)),
            "{not json",
            "[1,2]",
            "{\"type\":\"StepCompleted\",\"seq\":\"x\",\"event\":{}}",
            "{\"type\":\"StepCompleted\",\"seq\":3,\"event\":{\"runId\":\"a-cli\",\"epoch\":\"bad\"}}",
            "{\"type\":\"StepCompleted\",\"seq\":4,\"event\":[]}",
            RunJournal.EventLine(5, Step("other", 9)),
            RunJournal.EventLine(6, Step("a-cli", 2)),
            RunJournal.EventLine(7, new RunFinished { RunId = "a-cli", Outcome = RunOutcome.Completed, EpochsCompleted = 1 }),
        ]);
        WriteJournal(f, "b-cli",
        [
            RunJournal.HeaderLine(Header("b-cli", Environment.ProcessId)),
            RunJournal.EventLine(1, new RunFinished { RunId = "b-cli", Outcome = RunOutcome.Completed, EpochsCompleted = 1 }),
        ]);

        await Importer(f).ImportAllAsync();

        Assert.Equal([1L, 2], f.Runs.Metrics("a-cli").Select(m => m.GlobalStep));
        Assert.Equal(RunStatus.Completed, f.Runs.Get("a-cli")!.Status);
        Assert.Equal(RunStatus.Completed, f.Runs.Get("b-cli")!.Status);
        Assert.Null(f.Runs.Get("other"));
    }

    [Fact]
    public async Task ImportAll_LineLongerThanTheLimit_IsSkippedWithoutBeingRead()
    {
        await using var f = new StoreFixture();
        f.Database.Options.MaxJournalLineBytes = 4096;
        var huge = new string('x', 100_000);
        WriteJournal(f, "cli",
        [
            RunJournal.HeaderLine(Header("cli", Environment.ProcessId)),
            RunJournal.EventLine(1, Step("cli", 1)),
            RunJournal.EventLine(2, new RunLog { RunId = "cli", Level = RunLogLevel.Info, Message = huge }),
            RunJournal.EventLine(3, Step("cli", 2)),
        ]);

        await Importer(f).ImportAllAsync();

        Assert.Equal([1L, 2], f.Runs.Metrics("cli").Select(m => m.GlobalStep));
        Assert.DoesNotContain(f.Runs.Events("cli"), e => e.Message.Contains(huge, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ImportAll_EmptyJournalThenItsHeader_ImportsItAndTheJournalsAfterIt()
    {
        await using var f = new StoreFixture();
        var importer = Importer(f);
        // A command-line run created its journal; the header line is not there yet.
        var early = WriteJournal(f, "a-cli", []);
        await importer.ImportAllAsync();
        await importer.ImportAllAsync();
        Assert.True(File.Exists(early));

        WriteJournal(f, "b-cli",
        [
            RunJournal.HeaderLine(Header("b-cli", Environment.ProcessId)),
            RunJournal.EventLine(1, new RunFinished { RunId = "b-cli", Outcome = RunOutcome.Completed, EpochsCompleted = 1 }),
        ]);
        File.WriteAllText(early, RunJournal.HeaderLine(Header("a-cli", Environment.ProcessId)) + "\n" + RunJournal.EventLine(1, Step("a-cli", 1)) + "\n");
        await importer.ImportAllAsync();

        Assert.Single(f.Runs.Metrics("a-cli"));
        Assert.Equal(RunStatus.Completed, f.Runs.Get("b-cli")!.Status);
    }

    [Fact]
    public async Task ImportAll_HeaderlessJournalWhoseWriterIsGone_IsQuarantinedWithAReason()
    {
        await using var f = new StoreFixture();
        var pid = DeadPid();
        var path = WriteJournal(f, "cli", [], pid);
        File.AppendAllText(path, "{\"type\":\"hea"); // killed while writing the header

        await Importer(f).ImportAllAsync();

        Assert.Contains($"pid {pid}", QuarantineReason(f, path));
        Assert.Empty(f.Runs.List());
    }

    [Fact]
    public async Task ImportAll_JournalThatIsALink_IsQuarantined()
    {
        await using var f = new StoreFixture();
        var real = Path.Combine(f.Folder.Path, "elsewhere.jsonl");
        File.WriteAllText(real, RunJournal.HeaderLine(Header("cli", Environment.ProcessId)) + "\n");
        var link = Path.Combine(f.Database.Options.JournalDirectory, $"cli.{Environment.ProcessId}.1{RunJournal.Extension}");
        File.CreateSymbolicLink(link, real);

        await Importer(f).ImportAllAsync();

        Assert.Null(f.Runs.Get("cli"));
        Assert.Contains("not a regular file", File.ReadAllText(Path.Combine(f.Database.Options.QuarantineDirectory, Path.GetFileName(link)) + ".reason.txt"));
    }

    [Fact]
    public async Task ImportAll_EventTheStoreRejects_KeepsTheOffsetThenQuarantines()
    {
        await using var f = new StoreFixture();
        var header = RunJournal.HeaderLine(Header("cli", Environment.ProcessId));
        var poison = RunJournal.EventLine(2, new RunStarted
        {
            RunId = "cli", Model = "FAKE", Dataset = "synthetic", Device = "cpu", ClassNames = null!, Modalities = ["T1"], Epochs = 1,
            StepsPerEpoch = 1, Parameters = 1, StartEpoch = 1, TrainSubjects = 1, ValidationSubjects = 1,
        });
        var path = WriteJournal(f, "cli", [header, RunJournal.EventLine(1, Step("cli", 1)), poison, RunJournal.EventLine(3, Step("cli", 2))]);
        var importer = Importer(f);

        await importer.ImportAllAsync();

        var journal = f.Database.Journals.FindById(Path.GetFileName(path))!;
        Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(header) + 1, journal.Offset); // not past the event that was not stored
        Assert.Equal(1, journal.FailedPasses);
        Assert.Equal([1L, 2], f.Runs.Metrics("cli").Select(m => m.GlobalStep)); // the others were
        for (var pass = 1; pass < RunJournalImporter.MaxFailedPasses; pass++) await importer.ImportAllAsync();

        Assert.Contains("could not be stored", QuarantineReason(f, path));
        var run = f.Runs.Get("cli")!;
        Assert.Equal(RunStatus.Interrupted, run.Status);
        Assert.Equal([1L, 2], f.Runs.Metrics("cli").Select(m => m.GlobalStep));
    }
}
