namespace MedZoo.Web.Reviews;

/// <summary>
/// Where a queued review goes to be run: the embedded <see cref="ReviewWorker"/>'s queue, or in cluster mode a Hangfire
/// job on the queue of the device it needs (<c>MedZoo.Web.Cluster.ClusterReviews</c>).
/// </summary>
public interface IReviewQueue
{
    /// <summary>Queues <paramref name="review"/>, already saved with status <see cref="ReviewStatus.Queued"/>.</summary>
    void Enqueue(ReviewRecord review);
}
