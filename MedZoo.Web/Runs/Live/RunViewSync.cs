using MedZoo.Engine.Training;

namespace MedZoo.Web.Runs.Live;

/// <summary>
/// Keeps a run page's <see cref="RunView"/> complete when the live stream loses updates. Live updates normally arrive
/// before the recorder stores them, so the page is ahead of the database; it can fall behind or miss some when
/// <list type="bullet">
/// <item>the stream stops (in cluster mode Redis restarts or is unreachable: the worker's updates never reach this
/// node; nothing arrives, so nothing looks wrong from the stream alone),</item>
/// <item>updates are skipped (a slow circuit's queue dropped its oldest, a worker's forwarder dropped some while
/// Redis was down): the next update's number jumps, leaving a hole,</item>
/// <item>a run resumes elsewhere (its worker vanished): the new session numbers on from what was stored, below what
/// the page saw live, so the page would ignore it until the numbers pass.</item>
/// </list>
/// The page calls <see cref="Check"/> every <see cref="CheckInterval"/> with the run's stored summary. The view is
/// reloaded from the database (<see cref="RunView.Load"/>) when the database has held for a whole interval a number
/// the page has not seen, or once the database has stored everything up to a hole or a new session's start; the
/// live updates the page applied after the database's last stored number are applied again on top, so a reload
/// never loses what the page already had. A finished run's status, when its last status update was lost, comes from
/// the same check. Not thread-safe: the page calls it on its circuit.
/// </summary>
public sealed class RunViewSync
{
    /// <summary>How often a page compares what it shows with what is stored.</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(2);

    /// <summary>Live updates kept to re-apply after a reload (those the database may not hold yet).</summary>
    public const int RecentCapacity = 1024;

    private readonly Func<RunRecord, RunView> _load;
    private readonly Queue<RunUpdate> _recent = new();
    private long? _reloadWhenStored; // reload once the database has stored this number
    private long _storedAtLastCheck = -1;
    private RunStatus? _statusAtLastCheck;

    /// <summary>Starts from a view loaded by <paramref name="load"/> (the page passes <c>r => RunView.Load(history, r)</c>).</summary>
    public RunViewSync(RunRecord run, Func<RunRecord, RunView> load)
    {
        ArgumentNullException.ThrowIfNull(run);
        _load = load ?? throw new ArgumentNullException(nameof(load));
        View = load(run);
    }

    /// <summary>The view to show; replaced by a reload (charts redraw in full when it changes).</summary>
    public RunView View { get; private set; }

    /// <summary>Reloads so far (a page that never lost an update never reloads).</summary>
    public int Reloads { get; private set; }

    /// <summary>True while the page has something to catch up on that the database did not hold at the last check.</summary>
    public bool Behind => _reloadWhenStored is not null;

    /// <summary>Applies a live update; returns false if the view already had it.</summary>
    public bool Apply(RunUpdate u)
    {
        ArgumentNullException.ThrowIfNull(u);
        if (u.Seq > 0)
        {
            if (u.Event is RunStarted && u.Seq <= View.LastSeq)
            {
                // A new session (resumed on another worker) numbers on from what was stored: what the page saw of the
                // vanished session beyond that is not history. Reload once the database holds the new start.
                _recent.Clear();
                Remember(u);
                Want(u.Seq);
                return true;
            }
            if (u.Seq > View.LastSeq + 1) Want(u.Seq - 1); // a hole below this update
            // Kept even when the view ignores it: after a new session's start it may be news to the reloaded view.
            Remember(u);
        }
        return View.Apply(u);
    }

    /// <summary>
    /// Compares the view with the run's stored summary (read by the page every <see cref="CheckInterval"/>); reloads
    /// when the view missed something the database holds. Returns true when the view was replaced.
    /// </summary>
    public bool Check(RunRecord stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var previous = _storedAtLastCheck;
        var previousStatus = _statusAtLastCheck;
        _storedAtLastCheck = stored.LastSeq;
        _statusAtLastCheck = stored.Status;
        // The database held `previous` a whole interval ago and the page still has not seen it: the stream lost it.
        if (previous > View.LastSeq) Want(previous);
        // A status stored for a whole interval that the page never heard of (status changes are not numbered).
        var statusMissed = stored.Status == previousStatus && stored.Status != View.Run.Status;
        if (_reloadWhenStored is { } wanted && stored.LastSeq >= wanted)
        {
            Reload(stored);
            return true;
        }
        if (statusMissed)
        {
            View.SetRun(stored);
            return true;
        }
        return false;
    }

    private void Reload(RunRecord stored)
    {
        var view = _load(stored);
        // What arrived live beyond what the database held when it was read goes back on top.
        foreach (var u in _recent)
            if (u.Seq > view.LastSeq) view.Apply(u);
        View = view;
        _reloadWhenStored = null;
        Reloads++;
    }

    private void Want(long seq) => _reloadWhenStored = Math.Max(_reloadWhenStored ?? 0, seq);

    private void Remember(RunUpdate u)
    {
        _recent.Enqueue(u);
        while (_recent.Count > RecentCapacity) _recent.Dequeue();
    }
}
