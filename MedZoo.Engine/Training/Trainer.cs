using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MedZoo.Engine.Devices;
using MedZoo.Engine.Inference;
using MedZoo.Engine.Losses;
using MedZoo.Engine.Metrics;
using MedZoo.Engine.Networks;
using MedZoo.Engine.Checkpoints;
using MedZoo.Engine.Training.TensorBoard;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedZoo.Engine.Training;

/// <summary>
/// Trains a segmentation network from the zoo on a dataset, validating on whole held-out volumes.
/// <para>
/// <see cref="Run"/> is synchronous and runs on the calling thread (the dashboard gives it a
/// dedicated long-running thread; the CLI runs it on the main thread). Each optimizer step runs in
/// its own dispose scope, so no tensor outlives its step; stop and pause requests are honoured
/// between batches; every event goes to the observer on this thread and the observer must return at
/// once. The run never throws: invalid options, a NaN loss or any exception end it as
/// <see cref="RunOutcome.Failed"/> with the reason, in the returned result and the final
/// <see cref="RunFinished"/> event.
/// </para>
/// <para>
/// Determinism: torch's generator is seeded from (seed, epoch) at the start of every epoch and the
/// data pipeline draws its patches and augmentations from (seed, epoch, batch), so on the CPU a run
/// resumed from its "last" checkpoint reproduces the uninterrupted run's losses and weights.
/// </para>
/// </summary>
public sealed class Trainer
{
    private readonly Func<TrainerOptions, Device, CancellationToken, TrainingComponents> _components;

    /// <summary>A trainer building models from the <see cref="ModelZoo"/>, data from the data pipeline and losses from <see cref="LossFactory"/>.</summary>
    public Trainer() : this(TrainingComponents.Create)
    {
    }

    /// <summary>A trainer with a custom component factory (tests inject small models and failing data).</summary>
    internal Trainer(Func<TrainerOptions, Device, CancellationToken, TrainingComponents> components) => _components = components;

    /// <summary>
    /// Runs (or resumes) a training run to its end.
    /// </summary>
    /// <param name="options">The run's configuration (validated here; a bad field fails the run naming it).</param>
    /// <param name="observer">Receives every event, on this thread; must not block.</param>
    /// <param name="control">Pause, resume and stop from any thread.</param>
    /// <param name="store">Where the "last" and "best" checkpoints go (and where "last" is resumed from).</param>
    /// <param name="runId">Identifier of the run (checkpoint and TensorBoard folder names).</param>
    /// <returns>How the run ended, its best epoch and checkpoint locations.</returns>
    public TrainingResult Run(TrainerOptions options, ITrainingObserver observer, TrainingControl control, ICheckpointStore store, string runId)
    {
        ArgumentNullException.ThrowIfNull(observer);
        ArgumentNullException.ThrowIfNull(control);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        var state = new RunState();
        TensorBoardObserver? tensorBoard = null;
        var fan = new CompositeTrainingObserver(observer);
        RunOutcome outcome;
        string? reason = null;
        try
        {
            ArgumentNullException.ThrowIfNull(options);
            options = TrainingPlans.Resolve(options, message => fan.OnEvent(new RunLog { RunId = runId, Level = RunLogLevel.Info, Message = message }),
                () => SavedPlan(options, store, runId));
            options.Validate();
            if (options.LogDirectory is { Length: > 0 } logDir)
            {
                tensorBoard = new TensorBoardObserver(logDir, runId);
                fan = new CompositeTrainingObserver(observer, tensorBoard);
            }
            using var session = new Session(this, options, fan, control, store, runId, state);
            outcome = session.Execute();
            reason = state.StopReason ?? (outcome == RunOutcome.Stopped ? control.StopReason : null);
        }
        catch (TrainingFailedException e)
        {
            outcome = RunOutcome.Failed;
            reason = e.Message;
        }
        catch (OperationCanceledException) when (control.IsStopRequested)
        {
            outcome = RunOutcome.Stopped;
            reason = control.StopReason ?? "stopped on request";
        }
        catch (Exception e)
        {
            outcome = RunOutcome.Failed;
            reason = Describe(e);
        }

        var best = state.History.Where(h => h.MeanForegroundDice is not null).MaxBy(h => h.MeanForegroundDice!.Value);
        fan.OnEvent(new RunFinished
        {
            RunId = runId, Outcome = outcome, Reason = reason, EpochsCompleted = state.EpochsCompleted,
            BestEpoch = state.BestEpoch, BestMeanForegroundDice = state.BestMetric,
        });
        tensorBoard?.Dispose();
        Devices.MallocTuning.Trim(); // the run's memory, kept for reuse while it trained, goes back to the system
        return new TrainingResult(outcome, reason, state.EpochsCompleted, state.GlobalStep, state.BestEpoch, state.BestMetric,
            state.BestValidation ?? best?.Validation, state.BestCheckpoint, state.LastCheckpoint,
            state.History.Count > 0 ? state.History[^1].TrainLoss : double.NaN, state.History.ToList());
    }

    /// <summary>The plan in the checkpoint a run resumes from, or null (no resume, no checkpoint yet, or no plan in it).</summary>
    private static Planning.DatasetPlan? SavedPlan(TrainerOptions options, ICheckpointStore store, string runId)
    {
        var resume = options.Resume?.Trim();
        if (string.IsNullOrEmpty(resume)) return null;
        if (resume is "last" or "auto")
        {
            using var stream = store.OpenRead(runId, "last");
            return stream is null ? null : Checkpoint.Read(stream).Header.Plan;
        }
        return File.Exists(resume) ? Checkpoint.Read(resume).Header.Plan : null;
    }

    private static string Describe(Exception e) => e switch
    {
        ArgumentException a => TrainerOptions.PlainMessage(a),
        InvalidDataException or IOException or InvalidOperationException or NotSupportedException => e.Message,
        _ => $"{e.GetType().Name}: {e.Message}",
    };

    /// <summary>Mutable facts of a run that outlive the session (for the result and the final event).</summary>
    private sealed class RunState
    {
        public int EpochsCompleted;
        public long GlobalStep;
        public int? BestEpoch;
        public double? BestMetric;
        public IReadOnlyList<ClassMetrics>? BestValidation;
        public string? BestCheckpoint;
        public string? LastCheckpoint;
        public string? StopReason;
        public List<EpochCompleted> History = [];
    }

    /// <summary>One execution of a run: owns the components and the optimizer.</summary>
    private sealed class Session : IDisposable
    {
        private readonly TrainerOptions _options;
        private readonly CompositeTrainingObserver _fan;
        private readonly TrainingControl _control;
        private readonly ICheckpointStore _store;
        private readonly string _runId;
        private readonly RunState _state;
        private readonly Device _device;
        private readonly DeviceInfo _deviceInfo;
        private readonly TrainingComponents _components;
        private readonly OptimizerHelper _optimizer;
        private readonly LearningRateScheduler _scheduler;
        private readonly EarlyStopping _earlyStopping;
        private int _startEpoch = 1;
        private int _validations;

        public Session(Trainer trainer, TrainerOptions options, CompositeTrainingObserver fan, TrainingControl control, ICheckpointStore store, string runId, RunState state)
        {
            _options = options;
            _fan = fan;
            _control = control;
            _store = store;
            _runId = runId;
            _state = state;
            (_device, _deviceInfo) = DeviceSelector.Resolve(options.Device);
            if (options.Threads > 0) set_num_threads(options.Threads);
            // Loading a real dataset can take minutes: say so before the first real event.
            Log(RunLogLevel.Info, $"loading dataset '{options.Dataset.Name}' and building {options.Model}");
            // Weights are initialised from the seed; the data pipeline derives its own generators from it.
            manual_seed(options.Seed);
            _components = trainer._components(options, _device, control.StopToken);
            try
            {
                _optimizer = CreateOptimizer(options, _components.Model.parameters());
                _scheduler = new LearningRateScheduler(options.Scheduler, options.LearningRate, options.Epochs);
                _earlyStopping = new EarlyStopping(options.EarlyStoppingPatience, options.EarlyStoppingMinDelta);
            }
            catch
            {
                _components.Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            _convolutions?.Dispose();
            _optimizer?.Dispose();
            _components.Dispose();
        }

        public RunOutcome Execute()
        {
            _convolutions = Networks.Blocks.ConvolutionRunLog.Begin();
            if (_deviceInfo.Notice is { } notice) Log(RunLogLevel.Warning, notice);
            if (_deviceInfo.Device == "cpu" && Devices.OneDnnIsa.Effective is not null)
                Log(RunLogLevel.Info, Devices.OneDnnIsa.Explanation);
            if (_deviceInfo.Device == "cpu")
            {
                Log(Networks.Blocks.CpuConvolution.Route is Networks.Blocks.CpuConvolutionRoute.ChannelsLast ? RunLogLevel.Info : RunLogLevel.Warning,
                    Networks.Blocks.CpuConvolution.Explanation);
                Log(RunLogLevel.Info, Devices.MallocTuning.Explanation);
            }
            if (_options.Optimizer == OptimizerKind.Adam) Log(RunLogLevel.Info, $"optimizer: {Optimizers.AdamChoice.Describe()}");
            ResumeIfAsked();
            var data = _components.Data;
            _fan.OnEvent(new RunStarted
            {
                RunId = _runId, Model = _components.ModelSpec.Name, Dataset = data.DatasetName, Device = _deviceInfo.Device,
                DeviceNotice = _deviceInfo.Notice, ClassNames = data.ClassNames, Modalities = data.Modalities, Epochs = _options.Epochs,
                StepsPerEpoch = data.StepsPerEpoch, Parameters = _components.ModelSpec.ParameterCount, StartEpoch = _startEpoch,
                TrainSubjects = data.TrainingSubjects, ValidationSubjects = data.Validation.Count,
            });
            Log(RunLogLevel.Info, string.Create(CultureInfo.InvariantCulture,
                $"{_components.ModelSpec.Name} ({_components.ModelSpec.ParameterCount:N0} parameters) on {_deviceInfo.Description}; {data.TrainingSubjects} training and {data.Validation.Count} validation subjects; {data.StepsPerEpoch} steps per epoch"));
            if (_startEpoch > _options.Epochs)
            {
                Log(RunLogLevel.Info, $"the checkpoint already completed {_startEpoch - 1} of {_options.Epochs} epochs: nothing to train");
                return RunOutcome.Completed;
            }

            for (var epoch = _startEpoch; epoch <= _options.Epochs; epoch++)
            {
                var (trainLoss, trainDice, seconds, waitFraction) = TrainEpoch(epoch);
                var validate = epoch % _options.ValidationInterval == 0 || epoch == _options.Epochs;
                ValidationResult? validation = validate ? Validate(epoch) : null;
                LogConvolutionFallbacks();
                if (epoch == _startEpoch) LogConvolutionChoices();
                var lrUsed = _scheduler.LearningRate;
                _scheduler.Step(validation?.MeanForegroundDice);

                var isBest = validation is { } v && !double.IsNaN(v.MeanForegroundDice) && (_state.BestMetric is null || v.MeanForegroundDice > _state.BestMetric);
                var completed = new EpochCompleted
                {
                    RunId = _runId, Epoch = epoch, Epochs = _options.Epochs, TrainLoss = trainLoss, TrainDice = trainDice,
                    ValidationLoss = validation?.Loss, Validation = validation?.Classes, MeanForegroundDice = validation?.MeanForegroundDice,
                    LearningRate = lrUsed, Seconds = seconds, DataWaitFraction = waitFraction, IsBest = isBest,
                };
                _state.History.Add(completed);
                _state.EpochsCompleted = epoch;
                if (isBest)
                {
                    _state.BestMetric = validation!.MeanForegroundDice;
                    _state.BestEpoch = epoch;
                    _state.BestValidation = validation.Classes;
                }
                var stopEarly = validation is not null && _earlyStopping.Update(validation.MeanForegroundDice);
                // Checkpoints first, the epoch after: whoever records the events (a store, a journal) never shows an
                // epoch, or a best epoch, whose checkpoint a crash could still lose.
                if (isBest) _state.BestCheckpoint = SaveCheckpoint("best", epoch, validation?.MeanForegroundDice);
                if (epoch % _options.CheckpointInterval == 0 || epoch == _options.Epochs || stopEarly)
                    _state.LastCheckpoint = SaveCheckpoint("last", epoch, validation?.MeanForegroundDice);
                // Stamped when it goes out: viewers' latency is measured from this time, and saving the checkpoints took a while.
                completed = completed with { Time = DateTimeOffset.UtcNow };
                _state.History[^1] = completed;
                _fan.OnEvent(completed);
                if (validation?.Previews is { } previews)
                    foreach (var p in previews) _fan.OnEvent(p);
                if (stopEarly)
                {
                    _state.StopReason = string.Create(CultureInfo.InvariantCulture,
                        $"validation mean foreground Dice did not improve for {_options.EarlyStoppingPatience} validation(s); best {_state.BestMetric:0.0000} at epoch {_state.BestEpoch}");
                    Log(RunLogLevel.Info, "early stopping: " + _state.StopReason);
                    return RunOutcome.EarlyStopped;
                }
            }
            return RunOutcome.Completed;
        }

        private void ResumeIfAsked()
        {
            var resume = _options.Resume?.Trim();
            if (string.IsNullOrEmpty(resume)) return;
            Checkpoint checkpoint;
            if (resume is "last" or "auto")
            {
                using var stream = _store.OpenRead(_runId, "last");
                if (stream is null)
                {
                    if (resume == "auto") return;
                    throw new TrainingFailedException($"cannot resume run '{_runId}': it has no 'last' checkpoint");
                }
                checkpoint = Checkpoint.Read(stream);
            }
            else
            {
                checkpoint = Checkpoint.Read(resume);
            }
            var h = checkpoint.Header;
            var spec = _components.ModelSpec;
            if (!string.Equals(h.Model.Name, spec.Name, StringComparison.OrdinalIgnoreCase) || h.Model.InChannels != spec.InChannels || h.Model.Classes != spec.Classes
                || h.Model.ParameterCount != spec.ParameterCount)
                throw new TrainingFailedException(
                    $"cannot resume: the checkpoint holds {h.Model.Name} ({h.Model.InChannels} channels, {h.Model.Classes} classes, {h.Model.ParameterCount} parameters) " +
                    $"but the options build {spec.Name} ({spec.InChannels} channels, {spec.Classes} classes, {spec.ParameterCount} parameters)");
            if (!string.Equals(h.Optimizer, _options.Optimizer.ToString(), StringComparison.OrdinalIgnoreCase))
                throw new TrainingFailedException($"cannot resume: the checkpoint was trained with {h.Optimizer}, the options ask for {_options.Optimizer}");
            checkpoint.LoadModel(_components.Model);
            checkpoint.LoadOptimizer(_optimizer);
            checkpoint.RestoreRngState();
            if (h.Scheduler is { } s) _scheduler.LoadState(s);
            _earlyStopping.Load(h.EarlyStopping);
            _state.History = h.Epochs().ToList();
            _state.EpochsCompleted = h.Epoch;
            _state.GlobalStep = h.GlobalStep;
            _state.BestMetric = h.BestMetric;
            _state.BestEpoch = h.BestEpoch;
            _state.BestValidation = _state.History.FirstOrDefault(e => e.Epoch == h.BestEpoch)?.Validation;
            _validations = _state.History.Count(e => e.Validation is not null);
            _startEpoch = h.Epoch + 1;
            Log(RunLogLevel.Info, $"resumed from the checkpoint of epoch {h.Epoch} (step {h.GlobalStep})");
        }

        private (double Loss, IReadOnlyList<double>? Dice, double Seconds, double WaitFraction) TrainEpoch(int epoch)
        {
            manual_seed(EpochSeed(_options.Seed, epoch));
            _scheduler.Apply(_optimizer);
            _components.Model.train();
            var data = _components.Data;
            var classes = data.ClassNames.Count;
            var diceSums = new double[classes];
            var diceCounts = new int[classes];
            double lossSum = 0, waitSum = 0;
            var steps = 0;
            var epochWatch = Stopwatch.StartNew();
            var stepWatch = Stopwatch.StartNew();
            foreach (var batch in data.Batches(epoch, _control.StopToken))
            {
                CheckControl();
                steps++;
                _state.GlobalStep++;
                var (loss, dice) = Step(batch, epoch, steps);
                LogConvolutionFallbacks();
                lossSum += loss;
                waitSum += batch.WaitSeconds;
                for (var c = 0; c < classes; c++)
                    if (!double.IsNaN(dice[c])) { diceSums[c] += dice[c]; diceCounts[c]++; }
                var elapsed = stepWatch.Elapsed.TotalSeconds;
                stepWatch.Restart();
                _fan.OnEvent(new StepCompleted
                {
                    RunId = _runId, Epoch = epoch, Step = steps, StepsPerEpoch = data.StepsPerEpoch, GlobalStep = _state.GlobalStep,
                    Loss = loss, LearningRate = _scheduler.LearningRate, Dice = dice, Seconds = elapsed, DataWaitSeconds = batch.WaitSeconds,
                });
            }
            CheckControl();
            if (steps == 0) throw new TrainingFailedException($"epoch {epoch} produced no training batch: the training set is empty");
            var seconds = epochWatch.Elapsed.TotalSeconds;
            var trainDice = Enumerable.Range(0, classes).Select(c => diceCounts[c] > 0 ? diceSums[c] / diceCounts[c] : double.NaN).ToArray();
            return (lossSum / steps, trainDice, seconds, seconds > 0 ? waitSum / seconds : 0);
        }

        /// <summary>One optimizer step in its own dispose scope; returns the loss and the batch's soft Dice per class.</summary>
        private (double Loss, double[] Dice) Step(TrainingBatch batch, int epoch, int step)
        {
            using var scope = NewDisposeScope();
            var image = tensor(batch.Images, batch.ImageShape, ScalarType.Float32).to(_device);
            var label = tensor(batch.Labels, batch.LabelShape, ScalarType.Byte).to(ScalarType.Int64, _device);
            _optimizer.zero_grad();
            var output = _components.Network.ForwardWithAuxiliary(image);
            var loss = _components.Loss.Compute(output, label, image);
            var value = loss.item<float>();
            if (!float.IsFinite(value))
                throw new TrainingFailedException($"loss became {(float.IsNaN(value) ? "NaN" : "infinite")} at epoch {epoch} step {step}");
            loss.backward();
            _optimizer.step();
            double[] dice;
            using (no_grad())
                dice = SoftDice(output.Logits, label, _components.Data.ClassNames.Count);
            return (value, dice);
        }

        /// <summary>Soft Dice per class over the whole batch (what MedicalZoo logged per step), NaN for a class absent from both.</summary>
        private static double[] SoftDice(Tensor logits, Tensor label, int classes)
        {
            var probabilities = logits.softmax(1);
            var oneHot = nn.functional.one_hot(label, classes).permute(0, 4, 1, 2, 3).to(probabilities.dtype);
            long[] dims = [0, 2, 3, 4];
            var intersection = (probabilities * oneHot).sum(dims).to(ScalarType.Float64).cpu().data<double>().ToArray();
            var predicted = probabilities.sum(dims).to(ScalarType.Float64).cpu().data<double>().ToArray();
            var truth = oneHot.sum(dims).to(ScalarType.Float64).cpu().data<double>().ToArray();
            var dice = new double[classes];
            for (var c = 0; c < classes; c++)
            {
                var denominator = predicted[c] + truth[c];
                dice[c] = truth[c] == 0 && predicted[c] < 0.5 ? double.NaN : 2 * intersection[c] / Math.Max(denominator, 1e-8);
            }
            return dice;
        }

        private sealed record ValidationResult(double Loss, IReadOnlyList<ClassMetrics> Classes, double MeanForegroundDice, IReadOnlyList<SlicePreview>? Previews);

        /// <summary>Whole-volume validation with the sliding-window inferer, hard labels, every metric.</summary>
        private ValidationResult? Validate(int epoch)
        {
            var data = _components.Data;
            if (data.Validation.Count == 0)
            {
                if (epoch == _startEpoch) Log(RunLogLevel.Warning, "no validation subjects (split = 1): no validation metrics and no best checkpoint");
                return null;
            }
            _components.Model.eval();
            var windows = _options.ValidationInference();
            windows.Device = _device.type == DeviceType.CPU ? null : _device.ToString();
            var inferer = new SlidingWindowInferer(windows);
            var metrics = new SegmentationMetrics(data.ClassNames.Count, data.ClassNames,
                new SegmentationMetricsOptions { SurfaceDistances = _options.SurfaceDistances });
            var doPreview = _options.PreviewInterval > 0 && _validations % _options.PreviewInterval == 0;
            _validations++;
            var previewIndex = Math.Min(_options.PreviewSubject, data.Validation.Count - 1);
            List<SlicePreview>? previews = null;
            double lossSum = 0;
            for (var i = 0; i < data.Validation.Count; i++)
            {
                CheckControl();
                var v = data.Validation[i];
                int[] predicted;
                using (var scope = NewDisposeScope())
                using (no_grad())
                {
                    var image = tensor(v.Image, [1, v.Channels, v.D, v.H, v.W], ScalarType.Float32);
                    var label = tensor(v.Label, [1, v.D, v.H, v.W], ScalarType.Byte).to(ScalarType.Int64, _device);
                    var logits = inferer.Predict(image, _components.Model, cancellation: _control.StopToken).to(_device);
                    var loss = _components.Loss.forward(logits, label).item<float>();
                    lossSum += loss;
                    predicted = logits.argmax(1).to(ScalarType.Int32).cpu().data<int>().ToArray();
                }
                var truth = Array.ConvertAll(v.Label, b => (int)b);
                metrics.Add<int>(predicted, truth, new VolumeShape(v.D, v.H, v.W), new VoxelSpacing(v.Spacing.D, v.Spacing.H, v.Spacing.W), v.Id);
                if (doPreview && i == previewIndex)
                    previews = SlicePreviews.Create(_runId, epoch, v.Id, v.Image.AsSpan(0, v.D * v.H * v.W), predicted, v.Label, true,
                        v.D, v.H, v.W, v.Spacing, _options.PreviewPosition).ToList();
            }
            _components.Model.train();
            var summary = metrics.Aggregate();
            var classes = summary.Classes.Select(c => new ClassMetrics(c.Name, c.Dice, c.Iou, c.Precision, c.Recall, c.Hd95, c.Assd)).ToList();
            return new ValidationResult(lossSum / data.Validation.Count, classes, summary.MeanForegroundDice, previews);
        }

        private string SaveCheckpoint(string kind, int epoch, double? meanDice)
        {
            var header = new CheckpointHeader
            {
                RunId = _runId, Kind = kind, Model = _components.ModelSpec, ClassNames = _components.Data.ClassNames.ToList(),
                Modalities = _components.Data.Modalities.ToList(), Normalization = _components.Data.Normalization,
                PatchSize = _options.Sampling.PatchSize.ToArray(), Plan = _options.Plan, Dataset = _components.Data.DatasetName, Epoch = epoch,
                GlobalStep = _state.GlobalStep, BestMetric = _state.BestMetric, BestEpoch = _state.BestEpoch, Seed = _options.Seed,
                Optimizer = _options.Optimizer.ToString(), Scheduler = _scheduler.SaveState(), EarlyStopping = _earlyStopping.Save(),
                History = CheckpointHistory.ToJson(_state.History), TrainerOptions = JsonSerializer.SerializeToElement(_options, Checkpoint.JsonOptions),
            };
            long bytes = 0;
            var location = _store.Save(_runId, kind, epoch, s =>
            {
                var counting = new CountingStream(s);
                Checkpoint.Write(counting, header, _components.Model, _optimizer);
                bytes = counting.Written;
            });
            _fan.OnEvent(new CheckpointSaved
            {
                RunId = _runId, Epoch = epoch, Kind = kind, Location = location, Bytes = bytes, MeanForegroundDice = meanDice,
            });
            return location;
        }

        /// <summary>Honours pause and stop between batches; throws to unwind when stopped.</summary>
        private void CheckControl()
        {
            if (_control.IsPaused)
            {
                _fan.OnEvent(new RunStateChanged { RunId = _runId, Paused = true });
                var stop = _control.WaitWhilePaused();
                if (!stop) _fan.OnEvent(new RunStateChanged { RunId = _runId, Paused = false });
            }
            _control.StopToken.ThrowIfCancellationRequested();
        }

        private void Log(RunLogLevel level, string message) => _fan.OnEvent(new RunLog { RunId = _runId, Level = level, Message = message });

        private int _convolutionsLogged;

        // This run's own convolution shapes (the process's checks are shared by every run in it).
        private Networks.Blocks.ConvolutionRunLog? _convolutions;

        // Layer shapes found wrong on the fast CPU route run another, exact way: say which, once each,
        // for the shapes this run uses (not those of earlier runs in the same process).
        private void LogConvolutionFallbacks()
        {
            if (_convolutions is not { } log || log.Count <= _convolutionsLogged) return;
            var choices = log.Choices;
            for (; _convolutionsLogged < choices.Count; _convolutionsLogged++)
                if (choices[_convolutionsLogged].LeftChannelsLast) Log(RunLogLevel.Info, "CPU " + choices[_convolutionsLogged].Note);
        }

        // Once, after the first epoch: how this run's convolution shapes were routed and where the
        // choices came from (checked and timed now, earlier in the process, or the route cache).
        private void LogConvolutionChoices()
        {
            if (_convolutions is not { Count: > 0 } log) return;
            var choices = log.Choices;
            var routes = string.Join(", ", choices.GroupBy(c => c.Route).Select(g => $"{g.Count()} {g.Key}"));
            int From(Networks.Blocks.ConvolutionChoiceSource source) => choices.Count(c => c.Source == source);
            Log(RunLogLevel.Info, string.Create(CultureInfo.InvariantCulture,
                $"CPU convolutions of this run: {choices.Count} layer shapes ({routes}); {From(Networks.Blocks.ConvolutionChoiceSource.Checked)} checked and timed now, " +
                $"{From(Networks.Blocks.ConvolutionChoiceSource.Process)} known from earlier in this process, {From(Networks.Blocks.ConvolutionChoiceSource.Cache)} from the route cache"));
        }

        internal static OptimizerHelper CreateOptimizer(TrainerOptions o, IEnumerable<Parameter> parameters) => o.Optimizer switch
        {
            OptimizerKind.Sgd => optim.SGD(parameters, o.LearningRate, momentum: o.Momentum, weight_decay: o.WeightDecay),
            OptimizerKind.Adam => Optimizers.AdamChoice.UseTorchSharp ? optim.Adam(parameters, o.LearningRate, weight_decay: o.WeightDecay) : new Optimizers.Adam(parameters, o.LearningRate, weight_decay: o.WeightDecay),
            OptimizerKind.AdamW => optim.AdamW(parameters, o.LearningRate, weight_decay: o.WeightDecay),
            OptimizerKind.RmsProp => optim.RMSProp(parameters, o.LearningRate, momentum: o.Momentum, weight_decay: o.WeightDecay),
            _ => throw new ArgumentException($"{nameof(TrainerOptions.Optimizer)}: {o.Optimizer} is not an optimizer"),
        };
    }

    /// <summary>The optimizer a run with <paramref name="options"/> trains with (an imported checkpoint's fresh optimizer state comes from it).</summary>
    internal static OptimizerHelper CreateOptimizer(TrainerOptions options, IEnumerable<Parameter> parameters) => Session.CreateOptimizer(options, parameters);

    /// <summary>Seed of torch's generator for one epoch (SplitMix64 of seed and epoch).</summary>
    internal static long EpochSeed(long seed, int epoch)
    {
        var z = unchecked((ulong)seed + 0x9E3779B97F4A7C15UL * (ulong)(epoch + 1));
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (long)((z ^ (z >> 31)) & 0x7FFFFFFFFFFFFFFFUL);
    }

    /// <summary>Counts bytes written through to another stream (checkpoint sizes for events).</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Written { get; private set; }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => Written; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            Written += count;
        }
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            Written += buffer.Length;
        }
    }
}

/// <summary>A run could not continue (NaN loss, empty data, a checkpoint that does not fit); the message is the reason shown to users.</summary>
public sealed class TrainingFailedException(string message) : Exception(message);
