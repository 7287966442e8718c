using System.Collections.Concurrent;

namespace MedZoo.Web.Reviews;

/// <summary>
/// Fans review progress out to pages, synchronously and without waiting on them (a page updates
/// with a throttled <c>InvokeAsync</c>), so inference never stalls on a slow browser.
/// </summary>
public sealed class ReviewNotifier
{
    private readonly ConcurrentDictionary<Guid, Action<ReviewRecord>> _subscribers = new();

    /// <summary>Calls <paramref name="handler"/> with every changed review until the result is disposed.</summary>
    public IDisposable Subscribe(Action<ReviewRecord> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var id = Guid.NewGuid();
        _subscribers[id] = handler;
        return new Subscription(() => _subscribers.TryRemove(id, out _));
    }

    public void Publish(ReviewRecord review)
    {
        foreach (var s in _subscribers.Values)
        {
            try { s(review); }
            catch (ObjectDisposedException) { } // a page that went away between the snapshot and the call
        }
    }

    private sealed class Subscription(Action dispose) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) dispose();
        }
    }
}
