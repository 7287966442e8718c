using MedZoo.Web.Persistence.Postgres;
using MedZoo.Web.Reviews;

namespace MedZoo.Web.Cluster;

/// <summary>
/// Brings the progress and outcome of reviews that workers run to this web node's pages: every
/// <see cref="PollInterval"/> it reads the reviews saved since its last look (<see cref="PostgresReviewStore.ChangedSince"/>,
/// stamped with the database's clock) and publishes each to the node's <see cref="ReviewNotifier"/>, which the Reviews
/// pages already follow; so a review queued and finished between two looks is still heard of. It looks back
/// <see cref="Lookback"/> before its last change and skips the changes it published already, since a save that began
/// before a later one may commit after it. Polling the database rather than the Redis live stream: reviews change a few
/// times a second at most and a page needs no more than a second's freshness, the query is one indexed read, and it keeps
/// working while Redis is down or restarting.
/// </summary>
public sealed class ClusterReviewWatcher(PostgresReviewStore reviews, ReviewNotifier notifier, ILogger<ClusterReviewWatcher> logger) : BackgroundService
{
    /// <summary>How often the node reads the reviews saved since its last look.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    /// <summary>How far before the newest change it saw each look reads again (a save committed late is still seen).</summary>
    public static readonly TimeSpan Lookback = TimeSpan.FromSeconds(10);

    private readonly Dictionary<string, DateTime> _published = new(StringComparer.Ordinal);
    private DateTime? _newest;

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
                logger.LogWarning(e, "Could not read the reviews that workers changed");
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

    /// <summary>One look: publishes every review saved since the last one (the first look only notes where the changes are).</summary>
    public void Poll()
    {
        var first = _newest is null;
        var since = first ? DateTime.MinValue : _newest!.Value - Lookback;
        foreach (var (review, changedAt) in reviews.ChangedSince(since))
        {
            if (_published.TryGetValue(review.Id, out var seen) && seen >= changedAt) continue;
            _published[review.Id] = changedAt;
            if (_newest is null || changedAt > _newest) _newest = changedAt;
            if (!first) notifier.Publish(review);
        }
        _newest ??= DateTime.MinValue + Lookback;
        // Only changes inside the look-back window can come again.
        foreach (var id in _published.Where(p => p.Value < _newest.Value - Lookback).Select(p => p.Key).ToList()) _published.Remove(id);
    }
}
