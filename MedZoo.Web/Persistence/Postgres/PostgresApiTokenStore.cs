using MedZoo.Web.Accounts;
using static MedZoo.Web.Persistence.Postgres.PostgresDatabase;

namespace MedZoo.Web.Persistence.Postgres;

/// <summary>The PostgreSQL implementation of <see cref="IApiTokenStore"/>: table <c>api_tokens</c>, the hash unique (a second token with the same hash is refused).</summary>
public sealed class PostgresApiTokenStore(PostgresDatabase database) : IApiTokenStore
{
    /// <inheritdoc />
    public void Add(ApiToken token)
    {
        ArgumentNullException.ThrowIfNull(token);
        var doc = ToJson(token);
        database.Run(c => InsertNew(c, "api_tokens", "INSERT INTO api_tokens (id, user_id, hash, created_at, doc) VALUES ($1, $2, $3, $4, $5)", doc,
            token.Id, token.UserId, token.Hash, token.CreatedAt.Ticks, doc));
    }

    /// <inheritdoc />
    public ApiToken? FindByHash(string hash) =>
        database.Run(c => Documents<ApiToken>(c, "SELECT doc FROM api_tokens WHERE hash = $1", hash).FirstOrDefault());

    /// <inheritdoc />
    public bool Exists(string id) => database.Run(c => Query(c, "SELECT EXISTS (SELECT 1 FROM api_tokens WHERE id = $1)", r => r.GetBoolean(0), id)[0]);

    /// <inheritdoc />
    public IReadOnlyList<ApiToken> ListForUser(string userId) =>
        database.Run(c => Documents<ApiToken>(c, "SELECT doc FROM api_tokens WHERE user_id = $1 ORDER BY created_at, id COLLATE \"C\"", userId));

    /// <inheritdoc />
    public bool Delete(string userId, string id) =>
        database.Run(c => Execute(c, "DELETE FROM api_tokens WHERE id = $1 AND user_id = $2", id, userId)) > 0;

    /// <inheritdoc />
    public int DeleteForUser(string userId) => database.Run(c => Execute(c, "DELETE FROM api_tokens WHERE user_id = $1", userId));

    /// <inheritdoc />
    public void RecordUse(string id, DateTime at) =>
        database.Run(c => Execute(c, "UPDATE api_tokens SET doc = jsonb_set(doc, '{LastUsedAt}', $2) WHERE id = $1", id, ValueJson<DateTime?>(at)));
}
