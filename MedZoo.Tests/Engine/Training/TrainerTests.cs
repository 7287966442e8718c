using MedZoo.Engine.Training;
using MedZoo.Engine.Checkpoints;
using MedZoo.Engine.Training.TensorBoard;
using MedZoo.Tests.TestSupport;
using TorchSharp;

namespace MedZoo.Tests.Engine.Training;

public class TrainerTests
{
    private static (TrainingResult Result, RecordingObserver Events) Run(Trainer trainer, TrainerOptions options, ICheckpointStore store,
        string runId = "run", Action<TrainingEvent, TrainingControl>? hook = null)
    {
        using var control = new TrainingControl();
        var observer = new RecordingObserver();
        if (hook is not null) observer.OnEach = e => hook(e, control);
        var result = trainer.Run(options, observer, control, store, runId);
        return (result, observer);
    }

    [Fact]
    public void Run_FewEpochs_LowersLossAndWritesCheckpointsAndEvents()
    {
        using var dir = TestPaths.NewTempFolder();
        var options = TestTrainers.Options(epochs: 3);
        options.LogDirectory = dir.File("runs");
        var (result, events) = Run(TestTrainers.With(o => new BlobData(o.Seed, steps: 8)), options, new FileCheckpointStore(dir.File("ckpt")));

        Assert.Equal(RunOutcome.Completed, result.Outcome);
        var epochs = events.Of<EpochCompleted>();
        Assert.Equal([1, 2, 3], epochs.Select(e => e.Epoch));
        Assert.True(epochs[^1].TrainLoss < epochs[0].TrainLoss * 0.8, $"loss {epochs[0].TrainLoss} → {epochs[^1].TrainLoss}");
        Assert.All(epochs, e => Assert.Equal(["Background", "Blob"], e.Validation!.Select(c => c.Name)));
        Assert.NotNull(result.BestEpoch);
        Assert.True(File.Exists(result.BestCheckpoint) && File.Exists(result.LastCheckpoint));
        Assert.IsType<RunStarted>(events.Events.First(e => e is not RunLog));
        Assert.IsType<RunFinished>(events.Events.Last());
        Assert.Equal(24, events.Of<StepCompleted>().Count);
        Assert.Equal(9, events.Of<SlicePreview>().Count);
        var preview = events.Of<SlicePreview>()[0];
        Assert.Equal(preview.Width * preview.Height, preview.Image.Length);
        Assert.Contains(events.Of<CheckpointSaved>(), c => c.Kind == "best");
        var tb = Directory.GetFiles(Path.Combine(options.LogDirectory, "run"), "events.out.tfevents.*").Single();
        Assert.Contains(TensorBoardEventReader.Read(tb).SelectMany(e => e.Scalars), s => s.Tag == "val/Blob");

        var checkpoint = Checkpoint.Read(result.BestCheckpoint!);
        Assert.Equal(result.BestEpoch, checkpoint.Header.Epoch);
        Assert.Equal(["Background", "Blob"], checkpoint.Header.ClassNames);
        Assert.Equal([8, 8, 8], checkpoint.Header.PatchSize);
    }

    [Fact]
    public void Run_EpochWithCheckpoints_EpochTimeIsWhenItIsPublishedAfterTheSaves()
    {
        // Viewer latency is measured from an event's time: an epoch stamped before its checkpoints were saved would
        // count the saves as latency.
        using var dir = TestPaths.NewTempFolder();
        var published = new List<(TrainingEvent Event, DateTimeOffset At)>();
        var (result, _) = Run(TestTrainers.With(o => new BlobData(o.Seed, steps: 2)), TestTrainers.Options(epochs: 2), new FileCheckpointStore(dir.File("ckpt")),
            hook: (e, _) => published.Add((e, DateTimeOffset.UtcNow)));

        Assert.Equal(RunOutcome.Completed, result.Outcome);
        foreach (var (e, at) in published.Where(p => p.Event is EpochCompleted))
        {
            var epoch = (EpochCompleted)e;
            var saves = published.Select(p => p.Event).OfType<CheckpointSaved>().Where(c => c.Epoch == epoch.Epoch).ToList();
            Assert.NotEmpty(saves);
            Assert.All(saves, c => Assert.True(epoch.Time >= c.Time, $"epoch {epoch.Epoch} stamped {epoch.Time:O}, before its {c.Kind} checkpoint was saved at {c.Time:O}"));
            Assert.True(epoch.Time <= at, $"epoch {epoch.Epoch} stamped {epoch.Time:O}, after it was published at {at:O}");
        }
    }

    [Fact]
    public void Run_TwoRunsInOneProcess_EachLogsOnlyItsOwnConvolutionShapes()
    {
        // Shape checks are shared by the process; each run's log must count its own shapes only
        // (issue 16.5: a later run used to log an earlier run's convolution fallbacks too).
        using var dir = TestPaths.NewTempFolder();
        string Summary(int steps)
        {
            var (result, events) = Run(TestTrainers.With(o => new BlobData(o.Seed, steps: steps), medZooConvolutions: true), TestTrainers.Options(epochs: 2),
                                       new FileCheckpointStore(dir.File($"ckpt{steps}")));
            Assert.Equal(RunOutcome.Completed, result.Outcome);
            var lines = events.Of<RunLog>().Select(l => l.Message).Where(m => m.StartsWith("CPU convolutions of this run:", StringComparison.Ordinal)).ToList();
            return Assert.Single(lines); // once per run, after its first epoch
        }
        var first = Summary(4);
        var second = Summary(3);

        var shapes = System.Text.RegularExpressions.Regex.Match(first, @"this run: (\d+) layer shapes").Groups[1].Value;
        Assert.NotEqual("", shapes);
        Assert.Contains($"this run: {shapes} layer shapes", second); // the same network: the same shapes, not twice as many
        Assert.Contains("0 checked and timed now", second);          // the first run checked them
    }

    [Fact]
    public void Run_SameSeedTwice_IdenticalLossesAndWeights()
    {
        using var dir = TestPaths.NewTempFolder();
        var trainer = TestTrainers.With(o => new BlobData(o.Seed, steps: 4));
        var a = Run(trainer, TestTrainers.Options(), new FileCheckpointStore(dir.File("a")));
        var b = Run(trainer, TestTrainers.Options(), new FileCheckpointStore(dir.File("b")));
        Assert.Equal(a.Events.Of<StepCompleted>().Select(s => s.Loss), b.Events.Of<StepCompleted>().Select(s => s.Loss));
        Assert.Equal(Checkpoint.Read(a.Result.LastCheckpoint!).ModelState, Checkpoint.Read(b.Result.LastCheckpoint!).ModelState);
    }

    [Fact]
    public void Run_ResumedHalfway_MatchesUninterruptedRun()
    {
        using var dir = TestPaths.NewTempFolder();
        var trainer = TestTrainers.With(o => new BlobData(o.Seed, steps: 3));
        TrainerOptions Options()
        {
            var o = TestTrainers.Options(epochs: 4);
            o.Scheduler.Kind = SchedulerKind.Polynomial;
            o.EarlyStoppingPatience = 10;
            return o;
        }
        var full = Run(trainer, Options(), new FileCheckpointStore(dir.File("full")));

        var store = new FileCheckpointStore(dir.File("split"));
        var first = Run(trainer, Options(), store, hook: (e, control) =>
        {
            if (e is EpochCompleted { Epoch: 2 }) control.Stop();
        });
        Assert.Equal(RunOutcome.Stopped, first.Result.Outcome);
        Assert.Equal(2, first.Result.EpochsCompleted);
        var resumedOptions = Options();
        resumedOptions.Resume = "last";
        var second = Run(trainer, resumedOptions, store);

        Assert.Equal(RunOutcome.Completed, second.Result.Outcome);
        // The polynomial schedule really steps once per epoch (MedicalZoo's scheduler never stepped).
        Assert.Equal(4, full.Events.Of<StepCompleted>().Select(s => s.LearningRate).Distinct().Count());
        Assert.Equal(3, second.Events.Of<RunStarted>().Single().StartEpoch);
        var split = first.Events.Of<StepCompleted>().Concat(second.Events.Of<StepCompleted>()).ToList();
        Assert.Equal(full.Events.Of<StepCompleted>().Select(s => (s.GlobalStep, s.Loss, s.LearningRate)), split.Select(s => (s.GlobalStep, s.Loss, s.LearningRate)));
        Assert.Equal(full.Result.History.Select(h => (h.Epoch, h.TrainLoss, h.MeanForegroundDice)), second.Result.History.Select(h => (h.Epoch, h.TrainLoss, h.MeanForegroundDice)));
        Assert.Equal(Checkpoint.Read(full.Result.LastCheckpoint!).ModelState, Checkpoint.Read(second.Result.LastCheckpoint!).ModelState);
        Assert.Equal(full.Result.BestEpoch, second.Result.BestEpoch);
    }

    [Fact]
    public void Run_SyntheticDataResumedHalfway_MatchesUninterruptedRun()
    {
        // The real patch loader builds batches on two threads with augmentation; resume must still
        // see exactly the batches of the uninterrupted run.
        using var dir = TestPaths.NewTempFolder();
        var trainer = TestTrainers.WithSyntheticData();
        var full = Run(trainer, TestTrainers.SyntheticOptions(epochs: 2), new FileCheckpointStore(dir.File("full")));
        Assert.Equal(RunOutcome.Completed, full.Result.Outcome);
        Assert.Equal(["background", "CSF", "grey matter", "white matter"], full.Events.Of<RunStarted>().Single().ClassNames);

        var store = new FileCheckpointStore(dir.File("split"));
        var first = Run(trainer, TestTrainers.SyntheticOptions(epochs: 2), store, hook: (e, control) =>
        {
            if (e is EpochCompleted { Epoch: 1 }) control.Stop();
        });
        var resumed = TestTrainers.SyntheticOptions(epochs: 2);
        resumed.Resume = "last";
        var second = Run(trainer, resumed, store);

        var split = first.Events.Of<StepCompleted>().Concat(second.Events.Of<StepCompleted>()).Select(s => s.Loss);
        Assert.Equal(full.Events.Of<StepCompleted>().Select(s => s.Loss), split);
        Assert.Equal(Checkpoint.Read(full.Result.LastCheckpoint!).ModelState, Checkpoint.Read(second.Result.LastCheckpoint!).ModelState);
        var validation = full.Events.Of<EpochCompleted>()[^1].Validation!;
        Assert.Equal(4, validation.Count);
        Assert.All(validation, c => Assert.True(double.IsNaN(c.Dice) || c.Dice is >= 0 and <= 1));
    }

    [Fact]
    public void Run_StopDuringEpoch_StopsWithinOneBatchAndKeepsLastCheckpoint()
    {
        using var dir = TestPaths.NewTempFolder();
        var store = new FileCheckpointStore(dir.Path);
        var (result, events) = Run(TestTrainers.With(o => new BlobData(o.Seed, steps: 10)), TestTrainers.Options(epochs: 3), store, hook: (e, control) =>
        {
            if (e is StepCompleted { Epoch: 2, Step: 3 }) control.Stop();
        });
        Assert.Equal(RunOutcome.Stopped, result.Outcome);
        Assert.Equal(13, events.Of<StepCompleted>().Count);
        Assert.Equal(1, result.EpochsCompleted);
        Assert.Equal(1, Checkpoint.Read(result.LastCheckpoint!).Header.Epoch);
        Assert.Equal(RunOutcome.Stopped, events.Of<RunFinished>().Single().Outcome);
    }

    [Fact]
    public void Run_StopWithAReason_RunFinishedCarriesItAndTheFirstReasonWins()
    {
        using var dir = TestPaths.NewTempFolder();
        var (result, events) = Run(TestTrainers.With(o => new BlobData(o.Seed, steps: 4)), TestTrainers.Options(epochs: 2), new FileCheckpointStore(dir.Path), hook: (e, control) =>
        {
            if (e is not StepCompleted { GlobalStep: 2 }) return;
            control.Stop("stopped by successive halving at epoch 1");
            control.Stop("a later reason");
            control.Stop();
        });
        Assert.Equal(RunOutcome.Stopped, result.Outcome);
        Assert.Equal("stopped by successive halving at epoch 1", events.Of<RunFinished>().Single().Reason);
    }

    [Fact]
    public async Task Run_PauseThenResume_HoldsTheTrainingThreadAndContinues()
    {
        using var dir = TestPaths.NewTempFolder();
        using var control = new TrainingControl();
        using var paused = new SemaphoreSlim(0);
        var observer = new RecordingObserver();
        observer.OnEach = e =>
        {
            if (e is StepCompleted { GlobalStep: 2 }) control.Pause();
            if (e is RunStateChanged { Paused: true }) paused.Release();
        };
        var trainer = TestTrainers.With(o => new BlobData(o.Seed, steps: 4));
        var run = Task.Factory.StartNew(() => trainer.Run(TestTrainers.Options(epochs: 1), observer, control, new FileCheckpointStore(dir.Path), "p"),
            TaskCreationOptions.LongRunning);
        Assert.True(await paused.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(2, observer.Of<StepCompleted>().Count);
        Assert.False(run.IsCompleted);
        control.Resume();
        var result = await run;
        Assert.Equal(RunOutcome.Completed, result.Outcome);
        Assert.Equal(4, observer.Of<StepCompleted>().Count);
        Assert.Equal([true, false], observer.Of<RunStateChanged>().Select(s => s.Paused));
    }

    [Fact]
    public void Run_NaNLoss_FailsWithEpochAndStep()
    {
        using var dir = TestPaths.NewTempFolder();
        var trainer = TestTrainers.With(o => new BlobData(o.Seed, steps: 5)
        {
            Intercept = (epoch, step, batch) =>
            {
                if (epoch == 2 && step == 3) batch.Images[5] = float.NaN;
                return batch;
            },
        });
        var (result, events) = Run(trainer, TestTrainers.Options(epochs: 3), new FileCheckpointStore(dir.Path));
        Assert.Equal(RunOutcome.Failed, result.Outcome);
        Assert.Equal("loss became NaN at epoch 2 step 3", result.Reason);
        Assert.Equal("loss became NaN at epoch 2 step 3", events.Of<RunFinished>().Single().Reason);
    }

    [Fact]
    public void Run_DataThrows_FailsWithReasonInsteadOfThrowing()
    {
        using var dir = TestPaths.NewTempFolder();
        var trainer = TestTrainers.With(o => new BlobData(o.Seed, steps: 5)
        {
            Intercept = (_, step, batch) => step == 2 ? throw new IOException("disk vanished") : batch,
        });
        var (result, _) = Run(trainer, TestTrainers.Options(), new FileCheckpointStore(dir.Path));
        Assert.Equal(RunOutcome.Failed, result.Outcome);
        Assert.Equal("disk vanished", result.Reason);
    }

    [Fact]
    public void Run_InvalidOptions_FailsNamingTheField()
    {
        var options = TestTrainers.Options();
        options.Sampling.BatchSize = 0;
        var (result, events) = Run(TestTrainers.With(o => new BlobData(o.Seed, 1)), options, new FileCheckpointStore(Path.GetTempPath()));
        Assert.Equal(RunOutcome.Failed, result.Outcome);
        Assert.Contains("Sampling.BatchSize", result.Reason);
        Assert.IsType<RunFinished>(Assert.Single(events.Events));
    }

    [Fact]
    public void Run_ObserverThrows_RunStillCompletes()
    {
        using var dir = TestPaths.NewTempFolder();
        var (result, _) = Run(TestTrainers.With(o => new BlobData(o.Seed, steps: 2)), TestTrainers.Options(epochs: 1), new FileCheckpointStore(dir.Path),
            hook: (_, _) => throw new InvalidOperationException("viewer gone"));
        Assert.Equal(RunOutcome.Completed, result.Outcome);
    }

    [Fact]
    public void Run_200Steps_LiveTensorCountStable()
    {
        using var dir = TestPaths.NewTempFolder();
        var counts = new Dictionary<long, long>();
        var (result, _) = Run(TestTrainers.With(o => new BlobData(o.Seed, steps: 200)), TestTrainers.Options(epochs: 1), new FileCheckpointStore(dir.Path),
            hook: (e, _) =>
            {
                // The observer runs on the training thread, whose live-tensor count is what must not grow.
                if (e is StepCompleted s) counts[s.GlobalStep] = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            });
        Assert.Equal(RunOutcome.Completed, result.Outcome);
        Assert.Equal(200, counts.Count);
        Assert.Equal(counts[10], counts[200]);
        Assert.Equal(counts[10], counts[100]);
    }

    [Fact]
    public void Run_EarlyStopping_EndsWhenValidationStopsImproving()
    {
        using var dir = TestPaths.NewTempFolder();
        var options = TestTrainers.Options(epochs: 30);
        options.LearningRate = 1e-9; // nothing improves after the first validation
        options.EarlyStoppingPatience = 2;
        var (result, events) = Run(TestTrainers.With(o => new BlobData(o.Seed, steps: 1)), options, new FileCheckpointStore(dir.Path));
        Assert.Equal(RunOutcome.EarlyStopped, result.Outcome);
        Assert.True(result.EpochsCompleted < 30);
        Assert.Contains("did not improve", result.Reason);
    }
}
