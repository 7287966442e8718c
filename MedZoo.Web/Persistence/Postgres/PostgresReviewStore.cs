using MedZoo.Web.Reviews;
using static MedZoo.Web.Persistence.Postgres.PostgresDatabase;

namespace MedZoo.Web.Persistence.Postgres;

/// <summary>
/// The PostgreSQL implementation of <see cref="IReviewStore"/>: tables <c>reviews</c> and <c>uploads</c>, one row each. Every
/// save stamps the review with the database's clock (<c>changed_at</c>), so that web nodes follow the reviews that
/// workers change (<see cref="ChangedSince"/>) without trusting any machine's clock.
/// </summary>
public sealed class PostgresReviewStore(PostgresDatabase database) : IReviewStore
{
    /// <inheritdoc />
    public IReadOnlyList<ReviewRecord> List() =>
        database.Run(c => Documents<ReviewRecord>(c, "SELECT doc FROM reviews ORDER BY created_at DESC, id COLLATE \"C\""));

    /// <inheritdoc />
    public IReadOnlyList<ReviewRecord> ForRun(string runId) =>
        database.Run(c => Documents<ReviewRecord>(c, "SELECT doc FROM reviews WHERE run_id = $1 ORDER BY created_at DESC, id COLLATE \"C\"", runId));

    /// <inheritdoc />
    public ReviewRecord? Get(string id) => database.Run(c => Documents<ReviewRecord>(c, "SELECT doc FROM reviews WHERE id = $1", id).FirstOrDefault());

    /// <inheritdoc />
    public IReadOnlyList<ReviewRecord> WithStatus(ReviewStatus status) =>
        database.Run(c => Documents<ReviewRecord>(c, "SELECT doc FROM reviews WHERE status = $1 ORDER BY created_at, id COLLATE \"C\"", (int)status));

    /// <inheritdoc />
    public void Save(ReviewRecord review)
    {
        ArgumentNullException.ThrowIfNull(review);
        database.Run(c => Execute(c, """
            INSERT INTO reviews (id, run_id, status, created_at, doc, changed_at) VALUES ($1, $2, $3, $4, $5, clock_timestamp())
            ON CONFLICT (id) DO UPDATE SET run_id = EXCLUDED.run_id, status = EXCLUDED.status, created_at = EXCLUDED.created_at, doc = EXCLUDED.doc,
                changed_at = clock_timestamp()
            """, review.Id, review.RunId, (int)review.Status, review.CreatedAt.Ticks, ToJson(review)));
    }

    /// <summary>Reviews saved at or after <paramref name="since"/> (the database's clock, UTC), oldest change first, each with the time of its last save.</summary>
    public IReadOnlyList<(ReviewRecord Review, DateTime ChangedAt)> ChangedSince(DateTime since) => database.Run(c => Query(c,
        "SELECT doc::text, changed_at FROM reviews WHERE changed_at >= $1 ORDER BY changed_at, id COLLATE \"C\"",
        r => (FromJson<ReviewRecord>(r.GetString(0)), DateTime.SpecifyKind(r.GetDateTime(1), DateTimeKind.Utc)),
        DateTime.SpecifyKind(since, DateTimeKind.Utc)));

    /// <inheritdoc />
    public bool Delete(string id) => database.Run(c => Execute(c, "DELETE FROM reviews WHERE id = $1", id)) > 0;

    /// <inheritdoc />
    public IReadOnlyList<UploadRecord> Uploads() =>
        database.Run(c => Documents<UploadRecord>(c, "SELECT doc FROM uploads ORDER BY created_at DESC, id COLLATE \"C\""));

    /// <inheritdoc />
    public UploadRecord? GetUpload(string id) => database.Run(c => Documents<UploadRecord>(c, "SELECT doc FROM uploads WHERE id = $1", id).FirstOrDefault());

    /// <inheritdoc />
    public void SaveUpload(UploadRecord upload)
    {
        ArgumentNullException.ThrowIfNull(upload);
        database.Run(c => Execute(c, """
            INSERT INTO uploads (id, created_at, doc) VALUES ($1, $2, $3)
            ON CONFLICT (id) DO UPDATE SET created_at = EXCLUDED.created_at, doc = EXCLUDED.doc
            """, upload.Id, upload.CreatedAt.Ticks, ToJson(upload)));
    }

    /// <inheritdoc />
    public bool DeleteUpload(string id) => database.Run(c => Execute(c, "DELETE FROM uploads WHERE id = $1", id)) > 0;
}
