using LiteDB;
using MedZoo.Web.Persistence;

namespace MedZoo.Web.Reviews;

/// <summary>Reviews and uploads in the dashboard's database (collections <c>reviews</c> and <c>uploads</c>).</summary>
public sealed class ReviewRepository
{
    private readonly ILiteCollection<ReviewDocument> _reviews;
    private readonly ILiteCollection<UploadDocument> _uploads;

    public ReviewRepository(MedZooDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        _reviews = database.Db.GetCollection<ReviewDocument>("reviews");
        _reviews.EnsureIndex(r => r.RunId);
        _reviews.EnsureIndex(r => r.Status);
        _uploads = database.Db.GetCollection<UploadDocument>("uploads");
    }

    /// <summary>Every review, newest first.</summary>
    public IReadOnlyList<ReviewDocument> List() => _reviews.FindAll().OrderByDescending(r => r.CreatedAt).ToList();

    /// <summary>Reviews of one run, newest first.</summary>
    public IReadOnlyList<ReviewDocument> ForRun(string runId) =>
        _reviews.Find(r => r.RunId == runId).OrderByDescending(r => r.CreatedAt).ToList();

    public ReviewDocument? Get(string id) => _reviews.FindById(id);

    public void Save(ReviewDocument review) => _reviews.Upsert(review);

    public bool Delete(string id) => _reviews.Delete(id);

    /// <summary>Reviews in a given state (the worker re-queues unfinished ones at start).</summary>
    public IReadOnlyList<ReviewDocument> WithStatus(ReviewStatus status) => _reviews.Find(r => r.Status == status).OrderBy(r => r.CreatedAt).ToList();

    /// <summary>Every upload, newest first.</summary>
    public IReadOnlyList<UploadDocument> Uploads() => _uploads.FindAll().OrderByDescending(u => u.CreatedAt).ToList();

    public UploadDocument? GetUpload(string id) => _uploads.FindById(id);

    public void SaveUpload(UploadDocument upload) => _uploads.Upsert(upload);

    public bool DeleteUpload(string id) => _uploads.Delete(id);
}
