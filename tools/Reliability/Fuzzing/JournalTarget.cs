using System.Text;
using MedZoo.Engine.Training;
using MedZoo.Web.Persistence;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Live;
using MedZoo.Web.Settings;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MedZoo.Reliability.Fuzzing;

/// <summary>
/// Run journals (the JSON-lines files <c>medzoo train</c> writes for the dashboard) through the server's own
/// <see cref="RunJournalImporter"/> on a real store, after each line through <see cref="RunJournal.ParseLine"/>.
/// The contract: a corrupt line is skipped (ParseLine returns nothing) and the rest imported; an exception from
/// either is a crash (in the server it stops the import of every journal at each poll).
/// </summary>
public sealed class JournalTarget : FuzzTarget
{
    private const string RunId = "fuzz-journal-run";
    private readonly List<FuzzInput> _seeds = [];
    private readonly MedZooDatabase _database;
    private readonly RunEventRecorder _recorder;
    private readonly RunJournalImporter _importer;
    private int _counter;

    public JournalTarget(string workDirectory) : base(workDirectory)
    {
        var data = Path.Combine(workDirectory, "data");
        _database = new MedZooDatabase(Options.Create(new DataOptions { DataDirectory = data }));
        var runs = new RunRepository(_database);
        _recorder = new RunEventRecorder(runs, runs, runs, runs, NullLogger<RunEventRecorder>.Instance);
        _recorder.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
        var notifier = new RunNotifier(_recorder, NullLogger<RunNotifier>.Instance);
        _importer = new RunJournalImporter(Options.Create(_database.Options), runs, new JournalRepository(_database), notifier, _recorder, new LiteDbCheckpointStore(_database), NullLogger<RunJournalImporter>.Instance);
        var checkpoint = Path.Combine(workDirectory, "last.ckpt");
        File.WriteAllBytes(checkpoint, [1, 2, 3]);
        _seeds.Add(FuzzInput.Of("run.jsonl", Encoding.UTF8.GetBytes(SeedJournal(checkpoint))));
    }

    public override string Kind => "journal";

    public override string Description => "run journals (JSON lines) through RunJournal.ParseLine and the server's RunJournalImporter on a real LiteDB store";

    public override IReadOnlyList<FuzzInput> Seeds => _seeds;

    private static string SeedJournal(string checkpoint)
    {
        var lines = new List<string>
        {
            RunJournal.HeaderLine(new RunJournalHeader
            {
                RunId = RunId, Name = "fuzz", CreatedBy = "cli", CreatedAt = new DateTime(2026, 12, 6, 12, 0, 0, DateTimeKind.Utc),
                ConfigJson = "{\"model\":\"UNET3D\"}", Model = "UNET3D", Dataset = "synthetic", Epochs = 2, ProcessId = 1, Host = "elsewhere",
            }),
        };
        TrainingEvent[] events =
        [
            new RunStarted { RunId = RunId, Model = "UNET3D", Dataset = "synthetic", Device = "cpu", ClassNames = ["bg", "csf"], Modalities = ["T1"], Epochs = 2, StepsPerEpoch = 2, Parameters = 10 },
            new StepCompleted { RunId = RunId, Epoch = 1, Step = 1, StepsPerEpoch = 2, GlobalStep = 1, Loss = 0.9, LearningRate = 1e-3, Dice = [0.5, 0.25], Seconds = 0.1 },
            new StepCompleted { RunId = RunId, Epoch = 1, Step = 2, StepsPerEpoch = 2, GlobalStep = 2, Loss = 0.8, LearningRate = 1e-3, Dice = [0.5, 0.3], Seconds = 0.1 },
            new EpochCompleted
            {
                RunId = RunId, Epoch = 1, Epochs = 2, TrainLoss = 0.85, TrainDice = [0.5, 0.3], ValidationLoss = 0.9, MeanForegroundDice = 0.3,
                LearningRate = 1e-3, Seconds = 1, IsBest = true, Validation = [new ClassMetrics("csf", 0.3, 0.2, 0.4, 0.5, double.NaN, 1)],
            },
            new SlicePreview { RunId = RunId, Epoch = 1, SubjectId = "s1", Plane = SlicePlane.Axial, SliceIndex = 1, SliceCount = 2, Width = 2, Height = 2, Image = [1, 2, 3, 4], Prediction = [0, 1, 0, 1] },
            new CheckpointSaved { RunId = RunId, Epoch = 1, Kind = "last", Location = checkpoint, Bytes = 3 },
            new RunLog { RunId = RunId, Level = RunLogLevel.Info, Message = "hello" },
            new RunFinished { RunId = RunId, Outcome = RunOutcome.Completed, EpochsCompleted = 1, BestEpoch = 1, BestMeanForegroundDice = 0.3 },
        ];
        lines.AddRange(events.Select((e, i) => RunJournal.EventLine(i + 1, e)));
        return string.Join('\n', lines) + "\n";
    }

    public override FuzzInput Mutate(FuzzInput seed, Mutator mutator)
    {
        var text = Encoding.UTF8.GetString(seed.Files[0].Value);
        if (mutator.Random.Next(2) == 0) return seed.With(0, Encoding.UTF8.GetBytes(mutator.MutateText(text)));
        var lines = text.Split('\n');
        var i = mutator.Random.Next(lines.Length - 1);
        lines[i] = mutator.MutateJson(lines[i]).Replace('\n', ' ');
        return seed.With(0, Encoding.UTF8.GetBytes(string.Join('\n', lines)));
    }

    public override FuzzVerdict Run(FuzzInput input, string folder)
    {
        var text = Encoding.UTF8.GetString(input.Files[0].Value);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var skipped = 0;
        foreach (var line in lines)
        {
            var (header, update) = RunJournal.ParseLine(line);
            if (header is null && update is null) skipped++;
        }
        var journals = _database.Options.JournalDirectory;
        Directory.CreateDirectory(journals);
        var path = Path.Combine(journals, $"fuzz.{Interlocked.Increment(ref _counter)}{RunJournal.Extension}");
        File.WriteAllBytes(path, input.Files[0].Value);
        try
        {
            _importer.ImportAllAsync().GetAwaiter().GetResult();
        }
        finally
        {
            // A journal the importer could not finish stays; remove it so the next input is judged alone.
            foreach (var f in Directory.EnumerateFiles(journals)) File.Delete(f);
        }
        return skipped == 0 ? FuzzVerdict.Accepted : new FuzzVerdict(FuzzOutcome.Refused, $"{skipped} of {lines.Length} lines skipped as corrupt");
    }

    protected override void Dispose(bool disposing)
    {
        if (!disposing) return;
        _recorder.StopAsync(CancellationToken.None).GetAwaiter().GetResult();
        _recorder.Dispose();
        _database.Dispose();
    }
}
