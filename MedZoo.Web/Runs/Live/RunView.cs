using MedZoo.Engine.Training;
using MedZoo.Web.Live;

namespace MedZoo.Web.Runs.Live;

/// <summary>One training step as a chart point.</summary>
public sealed record StepPoint(long GlobalStep, int Epoch, int Step, int StepsPerEpoch, double Loss, double LearningRate, double[]? Dice)
{
    /// <summary>Position on an epoch axis (epoch 3, half-way = 2.5).</summary>
    public double EpochPosition => StepsPerEpoch > 0 ? Epoch - 1 + (double)Step / StepsPerEpoch : Epoch;
}

/// <summary>One epoch as a chart point.</summary>
public sealed record EpochPoint(int Epoch, double TrainLoss, double[]? TrainDice, double? ValidationLoss,
    IReadOnlyList<ClassMetricsRecord>? Validation, double? MeanDice, bool IsBest, double Seconds);

/// <summary>
/// Everything a run page shows, built from the stored history and kept current by live updates.
/// Updates numbered at or below what the history already holds are ignored, so loading history
/// and subscribing can overlap without duplicates. Memory stays bounded however long the run:
/// at most <see cref="MaxStepPoints"/> step points (see <see cref="BoundedSeries{T}"/>) and
/// <see cref="MaxEvents"/> log lines. Not thread-safe: a page applies updates on its circuit.
/// </summary>
public sealed class RunView
{
    /// <summary>Log lines kept in memory.</summary>
    public const int MaxEvents = 1000;

    /// <summary>Step points kept in memory; older ones are reduced to the extremes of equal step ranges.</summary>
    public const int MaxStepPoints = 2000;

    /// <summary>Newest step points kept exactly.</summary>
    public const int ExactStepPoints = 500;

    private readonly BoundedSeries<StepPoint> _steps = new(p => p.GlobalStep, p => p.Loss, MaxStepPoints, ExactStepPoints);
    private readonly SortedDictionary<int, EpochPoint> _epochs = [];
    private int _lastEpoch = int.MinValue;
    private readonly List<RunEventRecord> _events = [];
    private readonly Dictionary<(SlicePlane, int), SlicePreviewRecord> _previews = [];

    public RunView(RunRecord run) => Run = run;

    /// <summary>The run's summary (status, progress, best results), updated by events.</summary>
    public RunRecord Run { get; private set; }

    /// <summary>Highest sequence number applied.</summary>
    public long LastSeq { get; private set; }

    /// <summary>Changes whenever something visible changed (charts redraw when it does).</summary>
    public long Version { get; private set; }

    /// <summary>Step points in step order: the newest exact, older ones downsampled.</summary>
    public IReadOnlyList<StepPoint> Steps => _steps.Points;

    /// <summary>Changes when step points already in <see cref="Steps"/> change (see <see cref="BoundedSeries{T}.Revision"/>).</summary>
    public int StepsRevision => _steps.Revision;

    public IReadOnlyCollection<EpochPoint> Epochs => _epochs.Values;

    /// <summary>
    /// Changes when an epoch already in <see cref="Epochs"/> is replaced or one arrives before the
    /// last (a resumed run repeating epochs); while it stays the same, epochs were only added at the end.
    /// </summary>
    public int EpochsRevision { get; private set; }
    public IReadOnlyList<RunEventRecord> Events => _events;
    public IReadOnlyDictionary<(SlicePlane Plane, int Slice), SlicePreviewRecord> Previews => _previews;

    /// <summary>Class names (background first) as the trainer reported them.</summary>
    public IReadOnlyList<string> ClassNames => Run.ClassNames;

    /// <summary>Builds the view of a run from its stored history.</summary>
    public static RunView Load(IRunHistoryStore runs, RunRecord run)
    {
        var view = new RunView(run);
        // The recorder may store more between reading the run and reading its history: the view
        // holds whatever was read, so live updates continue after the highest number seen.
        var last = run.LastSeq;
        // Read in pages, in the order they happened, so a long run never sits in memory whole.
        var after = 0L;
        while (true)
        {
            var page = runs.MetricsAfter(run.Id, after, RunHistory.MaxPageSize);
            foreach (var m in page.Items) view.AddMetric(m);
            if (page.Items.Count > 0) after = page.Items[^1].Seq;
            if (!page.More) break;
        }
        last = Math.Max(last, after);
        foreach (var e in runs.Events(run.Id, MaxEvents))
        {
            view._events.Add(e);
            last = Math.Max(last, e.Seq);
        }
        foreach (var p in runs.Previews(run.Id)) view._previews[(p.Plane, p.SliceIndex)] = p;
        view.LastSeq = last;
        view.Version++;
        return view;
    }

    /// <summary>Replaces the summary (after a status change read from the store).</summary>
    public void SetRun(RunRecord run)
    {
        Run = run;
        LastSeq = Math.Max(LastSeq, run.LastSeq);
        Version++;
    }

    /// <summary>Applies a live update; returns false if it was already part of the view.</summary>
    public bool Apply(RunUpdate u)
    {
        ArgumentNullException.ThrowIfNull(u);
        if (u.Event is not RunStatusChanged)
        {
            if (u.Seq <= LastSeq) return false;
            LastSeq = u.Seq;
        }
        RunProjection.Apply(Run, u);
        var entry = RunProjection.History(u);
        if (entry.Metric is { } m) AddMetric(m);
        if (entry.Preview is { } p) _previews[(p.Plane, p.SliceIndex)] = p;
        if (entry.Line is { } line)
        {
            _events.Add(line);
            if (_events.Count > MaxEvents) _events.RemoveRange(0, _events.Count - MaxEvents);
        }
        Version++;
        return true;
    }

    private void AddMetric(MetricPointRecord m)
    {
        if (m.Kind == MetricKind.Step)
            _steps.Add(new StepPoint(m.GlobalStep, m.Epoch, m.Step, Run.StepsPerEpoch, m.Loss, m.LearningRate, m.Dice));
        else
        {
            if (m.Epoch <= _lastEpoch) EpochsRevision++;
            _lastEpoch = Math.Max(_lastEpoch, m.Epoch);
            _epochs[m.Epoch] = new EpochPoint(m.Epoch, m.Loss, m.Dice, m.ValidationLoss, m.Validation, m.MeanDice, m.IsBest, m.Seconds);
        }
    }
}
