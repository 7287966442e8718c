using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace MedZoo.Web.Reviews;

/// <summary>
/// The embedded mode's review queue: runs reviews in the background, one at a time, on its own long-running thread, each
/// through the <see cref="ReviewRunner"/> on the configured device (<see cref="ReviewOptions.Device"/>). At start,
/// reviews still queued by a previous process are run; a review it left running is marked
/// <see cref="ReviewStatus.Interrupted"/> instead of being run again (it may be what brought that process down, e.g. out
/// of memory); a user can run it again explicitly. In cluster mode web nodes have none: reviews are Hangfire jobs of the
/// workers (<c>MedZoo.Web.Cluster.ClusterReviewJob</c>).
/// </summary>
public sealed class ReviewWorker(
    IReviewStore repository, ReviewRunner runner, ReviewNotifier notifier, IOptions<ReviewOptions> options, TimeProvider clock,
    ILogger<ReviewWorker> logger) : BackgroundService, IReviewQueue
{
    /// <summary>Reason recorded on a review that was running when its server stopped without finishing it.</summary>
    public const string InterruptedReason =
        "the server stopped while this review was running (it may have run out of memory); it was not run again automatically: run it again if it should be";

    private readonly Channel<string> _queue = Channel.CreateUnbounded<string>();

    /// <summary>Adds a queued review to the worker's queue.</summary>
    public void Enqueue(string reviewId) => _queue.Writer.TryWrite(reviewId);

    /// <inheritdoc />
    public void Enqueue(ReviewRecord review)
    {
        ArgumentNullException.ThrowIfNull(review);
        Enqueue(review.Id);
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Before anything serves: a review left running was cut short by a crash (a graceful stop puts it back in the queue).
        foreach (var r in repository.WithStatus(ReviewStatus.Running))
        {
            r.Status = ReviewStatus.Interrupted;
            r.Reason = InterruptedReason;
            r.FinishedAt = clock.GetUtcNow().UtcDateTime;
            repository.Save(r);
            notifier.Publish(r);
            logger.LogWarning("Review {Id} was running when the server last stopped; marked interrupted, not run again", r.Id);
        }
        foreach (var r in repository.WithStatus(ReviewStatus.Queued)) Enqueue(r.Id);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var id in _queue.Reader.ReadAllAsync(stoppingToken))
        {
            await Task.Factory.StartNew(() => Execute(id, stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
    }

    /// <summary>Runs one review to completion or failure (synchronous; the worker's thread).</summary>
    public ReviewOutcome Execute(string id, CancellationToken cancellation) => runner.Execute(id, options.Value.Device, cancellation);
}
