using LiteDB;
using MedZoo.Web.Reviews;

namespace MedZoo.Web.Persistence;

/// <summary>The LiteDB implementation of <see cref="IReviewStore"/> (collections <c>reviews</c> and <c>uploads</c>).</summary>
public sealed class ReviewRepository : IReviewStore
{
    private readonly ILiteCollection<ReviewRecord> _reviews;
    private readonly ILiteCollection<UploadRecord> _uploads;

    public ReviewRepository(MedZooDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        _reviews = database.Db.GetCollection<ReviewRecord>("reviews");
        _reviews.EnsureIndex(r => r.RunId);
        _reviews.EnsureIndex(r => r.Status);
        _uploads = database.Db.GetCollection<UploadRecord>("uploads");
    }

    /// <inheritdoc />
    public IReadOnlyList<ReviewRecord> List() => _reviews.FindAll().OrderByDescending(r => r.CreatedAt).ToList();

    /// <inheritdoc />
    public IReadOnlyList<ReviewRecord> ForRun(string runId) =>
        _reviews.Find(r => r.RunId == runId).OrderByDescending(r => r.CreatedAt).ToList();

    /// <inheritdoc />
    public ReviewRecord? Get(string id) => _reviews.FindById(id);

    /// <inheritdoc />
    public void Save(ReviewRecord review) => _reviews.Upsert(review);

    /// <inheritdoc />
    public bool Delete(string id) => _reviews.Delete(id);

    /// <inheritdoc />
    public IReadOnlyList<ReviewRecord> WithStatus(ReviewStatus status) => _reviews.Find(r => r.Status == status).OrderBy(r => r.CreatedAt).ToList();

    /// <inheritdoc />
    public IReadOnlyList<UploadRecord> Uploads() => _uploads.FindAll().OrderByDescending(u => u.CreatedAt).ToList();

    /// <inheritdoc />
    public UploadRecord? GetUpload(string id) => _uploads.FindById(id);

    /// <inheritdoc />
    public void SaveUpload(UploadRecord upload) => _uploads.Upsert(upload);

    /// <inheritdoc />
    public bool DeleteUpload(string id) => _uploads.Delete(id);
}
