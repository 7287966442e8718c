using Microsoft.AspNetCore.Components;

namespace MedZoo.Web.Live;

/// <summary>How often each live page may re-render at most, by name (one place to tune them).</summary>
public static class LiveIntervals
{
    /// <summary>One run's charts, log and previews (the page people watch while training).</summary>
    public static readonly TimeSpan RunPage = TimeSpan.FromMilliseconds(200);

    /// <summary>One or two reviews' progress.</summary>
    public static readonly TimeSpan ReviewPage = TimeSpan.FromMilliseconds(250);

    /// <summary>The reviews list.</summary>
    public static readonly TimeSpan ReviewList = TimeSpan.FromMilliseconds(300);

    /// <summary>Parameter counts appearing on the models page.</summary>
    public static readonly TimeSpan ModelList = TimeSpan.FromMilliseconds(300);

    /// <summary>The home page's active and latest runs.</summary>
    public static readonly TimeSpan Home = TimeSpan.FromMilliseconds(500);

    /// <summary>The runs list.</summary>
    public static readonly TimeSpan RunList = TimeSpan.FromSeconds(1);

    /// <summary>How often lists with an active run re-read the store for status changes the live stream lost.</summary>
    public static readonly TimeSpan ListCatchUp = TimeSpan.FromSeconds(5);
}

/// <summary>
/// The subscribe → throttle → dispose pattern of every live page, written once. After the first
/// render (a prerender has no circuit to update) it calls <see cref="Subscribe"/>; handlers, which
/// run on the publisher's side, queue what they received and call <see cref="RequestRender"/>, which
/// never waits. At most once per <see cref="LiveInterval"/> the page runs <see cref="OnLiveRender"/>
/// on its circuit (fold the queued updates in) and renders. Disposing ends the subscriptions first,
/// then the throttle.
/// </summary>
public abstract class LiveComponent : ComponentBase, IDisposable
{
    private readonly List<IDisposable> _subscriptions = [];
    private RenderThrottle? _throttle;
    private Timer? _catchUp;
    private int _catchingUp;
    private bool _disposed;

    /// <summary>Least time between two live renders (one of <see cref="LiveIntervals"/>).</summary>
    protected abstract TimeSpan LiveInterval { get; }

    /// <summary>True once the page subscribed (after its first interactive render).</summary>
    protected bool IsLive => _throttle is not null;

    /// <summary>
    /// How often the page re-reads from the store what the live stream may have lost (null: never). Live updates can
    /// be lost on the way (in cluster mode while Redis is down; a slow circuit's queue drops its oldest): pages that
    /// must end up right whatever the stream did set it and do the reading in <see cref="OnCatchUp"/>.
    /// </summary>
    protected virtual TimeSpan? CatchUpInterval => null;

    /// <summary>Runs on the circuit every <see cref="CatchUpInterval"/>; returns true when the page must render.</summary>
    protected virtual bool OnCatchUp() => false;

    /// <summary>Subscribes to what the page shows; handlers call <see cref="RequestRender"/>.</summary>
    protected abstract IEnumerable<IDisposable> Subscribe();

    /// <summary>Runs on the circuit before each live render: fold in what the handlers queued.</summary>
    protected virtual void OnLiveRender()
    {
    }

    /// <summary>Asks for a live render soon; never waits (safe from any thread).</summary>
    protected void RequestRender() => _throttle?.Request();

    /// <summary>Replaces the subscriptions (a page whose subject changed); does nothing before the page is live.</summary>
    protected void Resubscribe()
    {
        if (!IsLive || _disposed) return;
        EndSubscriptions();
        _subscriptions.AddRange(Subscribe());
    }

    /// <inheritdoc />
    protected override void OnAfterRender(bool firstRender)
    {
        base.OnAfterRender(firstRender);
        if (!firstRender || IsLive || _disposed) return;
        _throttle = new RenderThrottle(InvokeAsync, () =>
        {
            OnLiveRender();
            StateHasChanged();
        }, LiveInterval);
        _subscriptions.AddRange(Subscribe());
        OnLive();
        if (CatchUpInterval is { } every) _catchUp = new Timer(_ => _ = CatchUpAsync(), null, every, every);
    }

    private async Task CatchUpAsync()
    {
        // One at a time: a store that answers slowly (restarting) must not pile up checks.
        if (_disposed || Interlocked.Exchange(ref _catchingUp, 1) == 1) return;
        try
        {
            await InvokeAsync(() =>
            {
                if (!_disposed && OnCatchUp()) StateHasChanged();
            });
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The store is unreachable for now (the stores log why) or the circuit is gone: the next check tries again.
            System.Diagnostics.Debug.WriteLine($"{GetType().Name}: catching up failed: {e.Message}");
        }
        finally
        {
            Volatile.Write(ref _catchingUp, 0);
        }
    }

    /// <summary>Runs once, right after the page subscribed (e.g. to catch up with what happened before).</summary>
    protected virtual void OnLive()
    {
    }

    private void EndSubscriptions()
    {
        foreach (var s in _subscriptions) s.Dispose();
        _subscriptions.Clear();
    }

    /// <summary>Ends the subscriptions, then the throttle.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _catchUp?.Dispose();
        EndSubscriptions();
        _throttle?.Dispose();
        OnDisposed();
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what the page itself holds (after its subscriptions ended).</summary>
    protected virtual void OnDisposed()
    {
    }
}
