using Hangfire;
using MedZoo.Web.Reviews;
using MedZoo.Web.Runs.Placement;
using Microsoft.Extensions.Options;

namespace MedZoo.Web.Cluster;

/// <summary>
/// The web node's side of the review queue: a review becomes a <see cref="ClusterReviewJob"/> on the queue of the device
/// reviews ask for, <see cref="ReviewOptions.Device"/> mapped as runs' devices are (<see cref="ClusterQueues.Of"/>:
/// "cuda*" → gpu, "cpu" → cpu, "auto" (the default) → gpu while a live worker serves it, else cpu). Not the device of the
/// run that made the checkpoint: where a model was trained says nothing about where its inference should run now (a run
/// trained on the only GPU of a busy machine reviews as well on any other), and one setting lets an operator keep reviews
/// off the GPUs (<c>MedZoo:Review:Device=cpu</c> with a CPU worker) or on them.
/// </summary>
public sealed class ClusterReviews(IBackgroundJobClient jobs, IWorkerStore workers, IOptions<ReviewOptions> options, ILogger<ClusterReviews> logger)
    : IReviewQueue
{
    /// <inheritdoc />
    public void Enqueue(ReviewRecord review)
    {
        ArgumentNullException.ThrowIfNull(review);
        var queue = ClusterQueues.Of(options.Value.Device, ClusterQueues.GpuWorkerAlive(workers));
        var job = ClusterHangfire.CreateJob(() => jobs.Enqueue<ClusterReviewJob>(queue, j => j.Run(review.Id, queue, CancellationToken.None)), logger);
        logger.LogInformation("Review {ReviewId} queued on {Queue} as job {JobId}", review.Id, queue, job);
    }
}
