using MedZoo.Web.Reviews;

namespace MedZoo.Web.Cluster;

/// <summary>
/// Brings the progress and outcome of reviews that workers run to this web node's pages: every
/// <see cref="PollInterval"/> it reads the queued and running reviews from PostgreSQL and publishes each one that changed,
/// and each one that left those states since the last look (completed, failed, interrupted, deleted), to the node's
/// <see cref="ReviewNotifier"/>, which the Reviews pages already follow. Polling the database rather than the Redis live
/// stream: reviews change a few times a second at most and a page needs no more than a second's freshness, the query is
/// one indexed read, and it keeps working while Redis is down or restarting (the live stream's recovery is its own work).
/// </summary>
public sealed class ClusterReviewWatcher(IReviewStore reviews, ReviewNotifier notifier, ILogger<ClusterReviewWatcher> logger) : BackgroundService
{
    /// <summary>How often the node reads the active reviews.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _expected = new(StringComparer.Ordinal);
    private Dictionary<string, (ReviewStatus Status, int Done, int Total, string? Worker)> _active = new(StringComparer.Ordinal);

    /// <summary>
    /// Makes the next look publish review <paramref name="id"/> whatever its state (one this node queued, which a worker
    /// may finish before the next look sees it active).
    /// </summary>
    public void Expect(string id) => _expected[id] = 0;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(PollInterval);
        do
        {
            try
            {
                Poll();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The database may be restarting: the next tick reads again.
                logger.LogWarning(e, "Could not read the reviews that workers run");
            }
        }
        while (await Tick(timer, stoppingToken).ConfigureAwait(false));
    }

    private static async Task<bool> Tick(PeriodicTimer timer, CancellationToken stop)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>One look: publishes what changed since the last one.</summary>
    public void Poll()
    {
        var now = reviews.WithStatus(ReviewStatus.Queued).Concat(reviews.WithStatus(ReviewStatus.Running)).ToList();
        var next = now.ToDictionary(r => r.Id, r => (r.Status, r.WindowsDone, r.WindowsTotal, r.Worker), StringComparer.Ordinal);
        foreach (var r in now)
            if (!_active.TryGetValue(r.Id, out var before) || before != next[r.Id]) notifier.Publish(r);
        var expected = _expected.Keys.ToList();
        foreach (var id in _active.Keys.Concat(expected).Where(id => !next.ContainsKey(id)).Distinct(StringComparer.Ordinal))
        {
            if (reviews.Get(id) is { } done) notifier.Publish(done);
        }
        foreach (var id in expected) _expected.TryRemove(id, out _);
        _active = next;
    }
}
