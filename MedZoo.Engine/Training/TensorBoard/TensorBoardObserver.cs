namespace MedZoo.Engine.Training.TensorBoard;

/// <summary>
/// Writes a run's events to TensorBoard with the tags MedicalZoo users know (its
/// <c>lib/visual3D_temp/BaseWriter.py</c>), so existing TensorBoard habits keep working:
/// <list type="bullet">
/// <item>every step: <c>train/&lt;Class&gt;</c> (the batch's soft Dice per class, when the loss reports it), plus <c>train/loss</c> and <c>train/lr</c>;</item>
/// <item>every validated epoch, at the epoch's last global step: <c>val/&lt;Class&gt;</c> — hard Dice on whole
/// volumes (MedicalZoo logged soft patch Dice here), plus <c>val/mean_foreground_dice</c>,
/// <c>val/loss</c>, <c>val/HD95/&lt;Class&gt;</c> and <c>val/ASSD/&lt;Class&gt;</c>;</item>
/// <item>every epoch, at step = epoch, as PyTorch's <c>add_scalars</c> lays them out (one sub-folder
/// per series, named <c>&lt;tag with / as _&gt;_train</c> / <c>_val</c>): <c>DSC/</c> (mean Dice in percent —
/// foreground classes only, where MedicalZoo averaged the background in), <c>Loss/</c>, and one
/// <c>&lt;Class&gt;</c> per class.</item>
/// </list>
/// Files go under <c>{logDir}/{runId}</c>. Writes are small appends on the training thread; a failing
/// disk raises from <see cref="OnEvent"/>, which the trainer logs and ignores.
/// </summary>
public sealed class TensorBoardObserver : ITrainingObserver, IDisposable
{
    private readonly string _root;
    private readonly Dictionary<string, TensorBoardEventWriter> _writers = new(StringComparer.Ordinal);
    private IReadOnlyList<string> _classes = [];
    private long _globalStep;
    private bool _disposed;

    /// <param name="logDirectory">MedicalZoo's <c>--log_dir</c>.</param>
    /// <param name="runId">Sub-folder of this run.</param>
    public TensorBoardObserver(string logDirectory, string runId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(logDirectory);
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        _root = Path.Combine(logDirectory, runId);
        Writer("");
    }

    /// <summary>The folder holding this run's event files.</summary>
    public string RunDirectory => _root;

    /// <inheritdoc />
    public void OnEvent(TrainingEvent trainingEvent)
    {
        if (_disposed) return;
        switch (trainingEvent)
        {
            case RunStarted s:
                _classes = s.ClassNames;
                break;
            case StepCompleted s:
                _globalStep = s.GlobalStep;
                var main = Writer("");
                main.AddScalar("train/loss", s.Loss, s.GlobalStep, s.Time);
                main.AddScalar("train/lr", s.LearningRate, s.GlobalStep, s.Time);
                if (s.Dice is { } dice)
                    for (var c = 0; c < dice.Count && c < _classes.Count; c++)
                        main.AddScalar($"train/{_classes[c]}", dice[c], s.GlobalStep, s.Time);
                break;
            case EpochCompleted e:
                WriteEpoch(e);
                break;
            case RunFinished:
                Flush();
                break;
        }
    }

    private void WriteEpoch(EpochCompleted e)
    {
        var main = Writer("");
        main.AddScalar("epoch/lr", e.LearningRate, e.Epoch, e.Time);
        Scalars("Loss/", "train", e.TrainLoss, e);
        if (e.TrainDice is { Count: > 0 } trainDice)
        {
            var foreground = trainDice.Skip(1).Where(double.IsFinite).ToList();
            if (foreground.Count > 0) Scalars("DSC/", "train", 100 * foreground.Average(), e);
            for (var c = 0; c < trainDice.Count && c < _classes.Count; c++)
                Scalars(_classes[c], "train", trainDice[c], e);
        }
        if (e.Validation is { } validation)
        {
            if (e.ValidationLoss is { } vl)
            {
                main.AddScalar("val/loss", vl, _globalStep, e.Time);
                Scalars("Loss/", "val", vl, e);
            }
            if (e.MeanForegroundDice is { } mean)
            {
                main.AddScalar("val/mean_foreground_dice", mean, _globalStep, e.Time);
                Scalars("DSC/", "val", 100 * mean, e);
            }
            foreach (var m in validation)
            {
                if (double.IsFinite(m.Dice))
                {
                    main.AddScalar($"val/{m.Name}", m.Dice, _globalStep, e.Time);
                    Scalars(m.Name, "val", m.Dice, e);
                }
                if (double.IsFinite(m.Hd95)) main.AddScalar($"val/HD95/{m.Name}", m.Hd95, _globalStep, e.Time);
                if (double.IsFinite(m.Assd)) main.AddScalar($"val/ASSD/{m.Name}", m.Assd, _globalStep, e.Time);
            }
        }
        Flush();
    }

    /// <summary>PyTorch's add_scalars: the series lives in its own folder, under the main tag.</summary>
    private void Scalars(string mainTag, string series, double value, EpochCompleted e)
    {
        if (!double.IsFinite(value)) return;
        Writer(mainTag.Replace('/', '_') + "_" + series).AddScalar(mainTag, value, e.Epoch, e.Time);
    }

    private TensorBoardEventWriter Writer(string sub)
    {
        if (!_writers.TryGetValue(sub, out var w))
        {
            w = new TensorBoardEventWriter(sub.Length == 0 ? _root : Path.Combine(_root, SafeFolder(sub)));
            _writers[sub] = w;
        }
        return w;
    }

    private static string SafeFolder(string s)
    {
        var invalid = Path.GetInvalidFileNameChars();
        return new string(s.Select(c => invalid.Contains(c) ? '_' : c).ToArray());
    }

    /// <summary>Flushes every open event file.</summary>
    public void Flush()
    {
        foreach (var w in _writers.Values) w.Flush();
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var w in _writers.Values) w.Dispose();
        _writers.Clear();
    }
}
