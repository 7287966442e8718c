namespace MedZoo.Web.Reviews;

/// <summary>Reviews and uploads as the Reviews pages, the review worker and the API ask for them.</summary>
public interface IReviewStore
{
    /// <summary>Every review, newest first (Reviews page, API).</summary>
    IReadOnlyList<ReviewRecord> List();

    /// <summary>Reviews of one run, newest first.</summary>
    IReadOnlyList<ReviewRecord> ForRun(string runId);

    /// <summary>The review, or null.</summary>
    ReviewRecord? Get(string id);

    /// <summary>Reviews in a given state, oldest first (the worker re-queues unfinished ones at start).</summary>
    IReadOnlyList<ReviewRecord> WithStatus(ReviewStatus status);

    /// <summary>Stores a review, replacing the one with its id (progress and results are saved as the worker goes).</summary>
    void Save(ReviewRecord review);

    /// <summary>Deletes a review; false if there was none.</summary>
    bool Delete(string id);

    /// <summary>Every upload, newest first.</summary>
    IReadOnlyList<UploadRecord> Uploads();

    /// <summary>The upload, or null.</summary>
    UploadRecord? GetUpload(string id);

    /// <summary>Stores an upload, replacing the one with its id.</summary>
    void SaveUpload(UploadRecord upload);

    /// <summary>Deletes an upload; false if there was none.</summary>
    bool DeleteUpload(string id);
}
