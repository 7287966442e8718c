using Hangfire;
using MedZoo.Web.Reviews;

namespace MedZoo.Web.Cluster;

/// <summary>
/// One review on a <c>medzoo worker</c>: the Hangfire job a web node enqueues for a queued review
/// (<see cref="ClusterReviews"/>). It holds a device slot of this worker like a run (so a GPU never takes more jobs than
/// <see cref="WorkerOptions.RunsPerDevice"/>, and the Workers page shows the review) and runs the review through the same
/// <see cref="ReviewRunner"/> as the embedded mode, on that device. Progress and the outcome are saved to PostgreSQL,
/// where every web node's <see cref="ClusterReviewWatcher"/> reads them. A review found running was held by a worker that
/// vanished (Hangfire hands a job to another worker only when its holder stopped renewing it): it is run again from the
/// start (a review's files are stored all at once, so nothing half-written remains) unless it was already started
/// <see cref="MaxAttempts"/> times, since a review that kills every worker it lands on (out of memory) must not go on
/// doing so: then it is marked <see cref="ReviewStatus.Interrupted"/> for a user to decide. When this worker shuts
/// down, its review is queued again and the job goes back to Hangfire's queue for another worker.
/// </summary>
public sealed class ClusterReviewJob(IReviewStore reviews, ReviewRunner runner, ReviewNotifier notifier, WorkerIdentity worker, TimeProvider clock,
    ILogger<ClusterReviewJob> logger)
{
    /// <summary>Starts of one review before a vanished worker's review is marked interrupted instead of run again.</summary>
    public const int MaxAttempts = 2;

    /// <summary>What a review's slot is called among the runs a worker holds (<see cref="WorkerIdentity.Running"/>).</summary>
    public static string Slot(string reviewId) => SlotPrefix + reviewId;

    /// <summary>The review id of a worker slot, or null for a run's slot.</summary>
    public static string? ReviewOf(string slot) =>
        slot.StartsWith(SlotPrefix, StringComparison.Ordinal) ? slot[SlotPrefix.Length..] : null;

    private const string SlotPrefix = "review:";

    /// <summary>Reason recorded on a review whose workers vanished <see cref="MaxAttempts"/> times while running it.</summary>
    public static string InterruptedReason(string? worker) =>
        $"worker {worker ?? "?"} vanished while running this review, and so did an earlier one (it may run out of memory): " +
        "it was not run again automatically; run it again if it should be";

    /// <summary>Runs review <paramref name="reviewId"/> taken from <paramref name="queue"/>; <paramref name="shutdown"/> is the worker's (Hangfire passes it).</summary>
    [AutomaticRetry(Attempts = 0)]
    public void Run(string reviewId, string queue, CancellationToken shutdown)
    {
        var review = reviews.Get(reviewId);
        if (review is null || review.Status is not (ReviewStatus.Queued or ReviewStatus.Running))
        {
            logger.LogInformation("Review {ReviewId} is {State}: its job ends without running it", reviewId, review is null ? "deleted" : review.Status.ToString());
            return;
        }
        if (review.Status == ReviewStatus.Running && !TakeOver(review)) return;
        var slot = Slot(reviewId);
        var device = worker.Acquire(queue, slot);
        ReviewOutcome outcome;
        try
        {
            logger.LogInformation("Review {ReviewId} runs on {Device}", reviewId, device);
            outcome = runner.Execute(reviewId, device, shutdown, worker.Name);
        }
        finally
        {
            worker.Release(device, slot);
        }
        logger.LogInformation("Review {ReviewId} ended: {Outcome}", reviewId, outcome);
        // Hangfire puts a job whose worker shuts down back in its queue when it ends with a cancellation.
        if (outcome == ReviewOutcome.Requeued)
            throw new OperationCanceledException($"worker {worker.Name} shut down while running review {reviewId}; it is queued again", shutdown);
    }

    // A review left running by a vanished worker: queued again to run here, or marked interrupted after too many tries.
    private bool TakeOver(ReviewRecord review)
    {
        var gone = review.Worker;
        if (review.Attempts >= MaxAttempts)
        {
            review.Status = ReviewStatus.Interrupted;
            review.Reason = InterruptedReason(gone);
            review.FinishedAt = clock.GetUtcNow().UtcDateTime;
            Save(review);
            logger.LogWarning("Review {ReviewId} was running on worker {Gone}, which vanished; it was started {Attempts} times: marked interrupted",
                review.Id, gone, review.Attempts);
            return false;
        }
        review.Status = ReviewStatus.Queued;
        review.Reason = $"worker {gone ?? "?"} vanished while running this review: run again on worker {worker.Name}";
        Save(review);
        logger.LogWarning("Review {ReviewId} was running on worker {Gone}, which vanished; running it again", review.Id, gone);
        return true;
    }

    private void Save(ReviewRecord review)
    {
        reviews.Save(review);
        notifier.Publish(review);
    }
}
