using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using MedZoo.Engine.Checkpoints;
using MedZoo.Engine.Training;

namespace MedZoo.Web.Cli.Training;

/// <summary>
/// A training run without the dashboard: checkpoints and <c>summary.json</c> in one output folder,
/// cancellation (Ctrl+C) turned into a clean stop that keeps the last checkpoint. The observers and
/// the checkpoint store are parameters so that the dashboard can record headless runs in its own
/// store by passing its observer and store. Temporary files of saves a killed run left in the output
/// folder are deleted when a run (or its resume) starts there.
/// </summary>
public static class HeadlessTraining
{
    /// <summary>Name of the summary file written to the output folder.</summary>
    public const string SummaryFileName = "summary.json";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Converters = { new JsonStringEnumConverter() },
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Runs <paramref name="options"/> to the end and writes the summary.</summary>
    /// <param name="options">Validated by the trainer.</param>
    /// <param name="outputDirectory">Receives last.ckpt, best.ckpt and summary.json (created if needed).</param>
    /// <param name="runId">Run identifier (TensorBoard sub-folder, checkpoint headers).</param>
    /// <param name="observers">Progress consumers (console, dashboard store, ...).</param>
    /// <param name="cancellation">Stops the run after the current batch.</param>
    /// <param name="store">Checkpoint store; null = files in <paramref name="outputDirectory"/>.</param>
    public static TrainingResult Run(TrainerOptions options, string outputDirectory, string runId, IEnumerable<ITrainingObserver> observers,
        CancellationToken cancellation, ICheckpointStore? store = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputDirectory);
        Directory.CreateDirectory(outputDirectory);
        var files = store is null ? new FileCheckpointStore(outputDirectory, perRunFolders: false) : store as FileCheckpointStore;
        store ??= files!;
        // A run killed mid-save leaves its temporary file; nothing else will ever rename or delete it.
        files?.RemoveTemporaryFiles();
        var started = new RunInfo();
        var all = new CompositeTrainingObserver([started, .. observers]);
        using var control = new TrainingControl();
        using var registration = cancellation.Register(control.Stop);
        var clock = Stopwatch.StartNew();
        var result = new Trainer().Run(options, all, control, store, runId);
        // A resumed run that found no new best still has the earlier session's best checkpoint on disk.
        if (result.BestCheckpoint is null && result.BestEpoch is not null && files?.PathOf(runId, "best") is { } best && File.Exists(best))
            result = result with { BestCheckpoint = best };
        WriteSummary(Path.Combine(outputDirectory, SummaryFileName), runId, options, started.Event, result, clock.Elapsed.TotalSeconds);
        return result;
    }

    /// <summary>The summary: best epoch and Dice (also per class), checkpoint paths, outcome and the epoch history.</summary>
    internal static void WriteSummary(string path, string runId, TrainerOptions options, RunStarted? started, TrainingResult result, double seconds)
    {
        var classes = result.BestClassMetrics ?? [];
        var summary = new
        {
            runId,
            outcome = result.Outcome,
            reason = result.Reason,
            model = started?.Model ?? options.Model,
            dataset = started?.Dataset ?? options.Dataset.Name,
            device = started?.Device,
            epochsCompleted = result.EpochsCompleted,
            globalStep = result.GlobalStep,
            durationSeconds = Math.Round(seconds, 1),
            bestEpoch = result.BestEpoch,
            bestMeanDice = Finite(result.BestMeanForegroundDice),
            perClassDice = classes.ToDictionary(c => c.Name, c => Finite(c.Dice)),
            perClass = classes.Select(c => new
            {
                name = c.Name, dice = Finite(c.Dice), iou = Finite(c.Iou), precision = Finite(c.Precision), recall = Finite(c.Recall),
                hd95 = Finite(c.Hd95), assd = Finite(c.Assd),
            }),
            checkpoint = result.BestCheckpoint ?? result.LastCheckpoint,
            lastCheckpoint = result.LastCheckpoint,
            tensorBoard = options.LogDirectory is { Length: > 0 } log ? Path.GetFullPath(Path.Combine(log, runId)) : null,
            history = result.History.Select(h => new
            {
                epoch = h.Epoch, trainLoss = Finite(h.TrainLoss), validationLoss = Finite(h.ValidationLoss),
                meanForegroundDice = Finite(h.MeanForegroundDice), learningRate = h.LearningRate, seconds = Math.Round(h.Seconds, 2),
            }),
        };
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(summary, Json));
        File.Move(temp, path, overwrite: true);
    }

    // JSON has no NaN: undefined metrics are written as null.
    private static double? Finite(double? v) => v is { } d && double.IsFinite(d) ? d : null;

    private sealed class RunInfo : ITrainingObserver
    {
        public RunStarted? Event { get; private set; }

        public void OnEvent(TrainingEvent trainingEvent)
        {
            if (trainingEvent is RunStarted s) Event = s;
        }
    }
}
