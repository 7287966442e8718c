using MedZoo.Engine;
using MedZoo.Engine.Training;
using MedZoo.Web.Runs;

namespace MedZoo.Tests.Web.Support;

/// <summary>
/// A stand-in trainer for hosting tests: publishes the same events as the real one (start, steps,
/// epochs with per-class validation, slice previews, checkpoints, finish), honours pause and stop,
/// resumes from its "last" checkpoint, and can be held step by step through <see cref="StepGate"/>
/// so a test decides exactly when training advances. Configuration JSON:
/// {"model":"FAKE","dataset":"synthetic","epochs":2,"stepsPerEpoch":3,"device":"cpu","failAtStep":0}.
/// </summary>
public sealed class ScriptedRunExecutor : IRunExecutor
{
    public static readonly string[] ClassNames = ["background", "csf", "gm", "wm"];

    /// <summary>When set, every step waits for one release (a stop also ends the wait).</summary>
    public SemaphoreSlim? StepGate { get; set; }

    /// <summary>When set, the run waits for one release before it publishes RunStarted, as the trainer does while it loads the dataset (a stop also ends the wait).</summary>
    public SemaphoreSlim? StartGate { get; set; }

    /// <summary>When set, Execute waits for one release after its final event before it returns (a run that ends slowly).</summary>
    public SemaphoreSlim? ReturnGate { get; set; }

    /// <summary>Work done inside every step (e.g. CPU load for throughput measurements).</summary>
    public Action? StepWork { get; set; }

    /// <summary>Runs that entered Execute, in order.</summary>
    public List<string> Started { get; } = [];

    /// <summary>The scripted trainer's options (what the New run form edits in tests).</summary>
    public sealed class Config
    {
        /// <summary>Model name.</summary>
        public string Model { get; set; } = "FAKE";
        public string Dataset { get; set; } = "synthetic";
        /// <summary>Epochs to train.</summary>
        public int Epochs { get; set; } = 2;
        public int StepsPerEpoch { get; set; } = 3;
        public string Device { get; set; } = "cpu";
        public int FailAtStep { get; set; }
        /// <summary>Validate every N epochs (and at the last), like the trainer's validation interval.</summary>
        public int ValidateEvery { get; set; } = 1;
        /// <summary>Multiplies the validation Dice, so runs of a sweep differ (1 by default).</summary>
        public double DiceScale { get; set; } = 1;
    }

    public static string Json(int epochs = 2, int stepsPerEpoch = 3, int failAtStep = 0, string device = "cpu", int validateEvery = 1) =>
        RunConfigJson.Serialize(new Config { Epochs = epochs, StepsPerEpoch = stepsPerEpoch, FailAtStep = failAtStep, Device = device, ValidateEvery = validateEvery });

    public RunForm Form { get; } = new(typeof(Config),
        [
            new RunPreset("quick", "two short epochs", () => new Config()),
            new RunPreset("long", "many epochs for watching", () => new Config { Epochs = 50, StepsPerEpoch = 4 }),
        ],
        path => path switch
        {
            "Model" => ["FAKE", "OTHER"],
            "Dataset" => ["synthetic", "synthetic_tumour"],
            _ => null,
        });

    public RunPlan Describe(object configuration)
    {
        var c = (Config)configuration;
        if (c.Epochs < 1) throw new InvalidOptionException(nameof(Config.Epochs), $"must be at least 1, got {c.Epochs}");
        return new RunPlan(c.Model, c.Dataset, c.Epochs, c.Device);
    }

    private static Config Parse(string json) => RunConfigJson.Deserialize<Config>(json);

    public void Execute(RunExecution x)
    {
        try
        {
            Script(x);
        }
        finally
        {
            ReturnGate?.Wait();
        }
    }

    private void Script(RunExecution x)
    {
        var c = Parse(x.ConfigJson);
        lock (Started) Started.Add(x.RunId);
        var startEpoch = 1;
        if (x.Resume)
        {
            using var s = x.Checkpoints.OpenRead(x.RunId, "last") ?? throw new InvalidOperationException("no last checkpoint");
            startEpoch = s.ReadByte() + 1;
        }
        var o = x.Observer;
        if (StartGate is not null)
        {
            try
            {
                StartGate.Wait(x.Control.StopToken);
            }
            catch (OperationCanceledException)
            {
                o.OnEvent(new RunFinished { RunId = x.RunId, Outcome = RunOutcome.Stopped, Reason = "stopped by the user" });
                return;
            }
        }
        o.OnEvent(new RunStarted
        {
            RunId = x.RunId, Model = c.Model, Dataset = c.Dataset, Device = "cpu", ClassNames = ClassNames, Modalities = ["T1"],
            Epochs = c.Epochs, StepsPerEpoch = c.StepsPerEpoch, Parameters = 1234, StartEpoch = startEpoch, TrainSubjects = 4, ValidationSubjects = 2,
        });
        double? best = null;
        int? bestEpoch = null;
        var epochsDone = startEpoch - 1;
        for (var epoch = startEpoch; epoch <= c.Epochs; epoch++)
        {
            for (var step = 1; step <= c.StepsPerEpoch; step++)
            {
                if (Paused(x) || !Pass(x))
                {
                    o.OnEvent(new RunFinished { RunId = x.RunId, Outcome = RunOutcome.Stopped, Reason = x.Control.StopReason ?? "stopped by the user", EpochsCompleted = epochsDone, BestEpoch = bestEpoch, BestMeanForegroundDice = best });
                    return;
                }
                var global = (long)(epoch - 1) * c.StepsPerEpoch + step;
                if (c.FailAtStep > 0 && global == c.FailAtStep) throw new InvalidOperationException($"scripted failure at step {global}");
                StepWork?.Invoke();
                o.OnEvent(new StepCompleted
                {
                    RunId = x.RunId, Epoch = epoch, Step = step, StepsPerEpoch = c.StepsPerEpoch, GlobalStep = global,
                    Loss = 1.0 / global, LearningRate = 1e-3, Dice = [0.9, 0.1 * epoch, 0.2 * epoch, 0.3 * epoch], Seconds = 0.01,
                });
            }
            var validated = epoch % Math.Max(1, c.ValidateEvery) == 0 || epoch == c.Epochs;
            var mean = Math.Min(0.95, 0.3 + 0.2 * epoch) * c.DiceScale;
            var isBest = validated && (best is null || mean > best);
            if (isBest) { best = mean; bestEpoch = epoch; }
            o.OnEvent(new EpochCompleted
            {
                RunId = x.RunId, Epoch = epoch, Epochs = c.Epochs, TrainLoss = 1.0 / epoch, TrainDice = [0.9, 0.5, 0.5, 0.5],
                ValidationLoss = validated ? 1.2 / epoch : null, MeanForegroundDice = validated ? mean : null, LearningRate = 1e-3, Seconds = 0.1, IsBest = isBest,
                Validation = validated ? ClassNames.Select((n, i) => new ClassMetrics(n, i == 0 ? 0.99 : mean, 0.5, 0.6, 0.7, i == 0 ? double.NaN : 2.5, 1.0)).ToList() : null,
            });
            foreach (var plane in validated ? Enum.GetValues<SlicePlane>() : [])
            {
                o.OnEvent(new SlicePreview
                {
                    RunId = x.RunId, Epoch = epoch, SubjectId = "val-1", Plane = plane, SliceIndex = 8, SliceCount = 16, Width = 16, Height = 16,
                    Image = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray(),
                    Prediction = Enumerable.Range(0, 256).Select(i => (byte)(i % 4)).ToArray(),
                    GroundTruth = Enumerable.Range(0, 256).Select(i => (byte)(i / 64)).ToArray(),
                });
            }
            var e = epoch;
            var location = x.Checkpoints.Save(x.RunId, "last", epoch, s => s.WriteByte((byte)e));
            o.OnEvent(new CheckpointSaved { RunId = x.RunId, Epoch = epoch, Kind = "last", Location = location, Bytes = 1 });
            epochsDone = epoch;
        }
        o.OnEvent(new RunFinished { RunId = x.RunId, Outcome = RunOutcome.Completed, EpochsCompleted = c.Epochs, BestEpoch = bestEpoch, BestMeanForegroundDice = best });
    }

    // Like the trainer: announce a pause, hold between batches, announce the resume. True when stopped.
    private static bool Paused(RunExecution x)
    {
        if (!x.Control.IsPaused) return x.Control.IsStopRequested;
        x.Observer.OnEvent(new RunStateChanged { RunId = x.RunId, Paused = true });
        var stop = x.Control.WaitWhilePaused();
        if (!stop) x.Observer.OnEvent(new RunStateChanged { RunId = x.RunId, Paused = false });
        return stop;
    }

    // Waits for the test to allow the next step; false when stopped meanwhile. A pause that arrives while the step is
    // held is obeyed at once, as the trainer obeys it at its next batch (it is never held between two), so a test can
    // pause a run it holds without first releasing a step.
    private bool Pass(RunExecution x)
    {
        var control = x.Control;
        if (StepGate is null) return !control.IsStopRequested;
        try
        {
            while (!StepGate.Wait(TimeSpan.FromMilliseconds(20), control.StopToken))
                if (control.IsPaused && Paused(x)) return false;
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
