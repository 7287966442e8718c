using LiteDB;
using MedZoo.Web.Accounts;

namespace MedZoo.Web.Persistence;

/// <summary>API tokens in the dashboard's LiteDB database (collection <c>apiTokens</c>, unique index on the hash).</summary>
public sealed class LiteDbApiTokenStore : IApiTokenStore
{
    private readonly ILiteCollection<ApiTokenDocument> _tokens;

    public LiteDbApiTokenStore(MedZooDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        _tokens = database.Db.GetCollection<ApiTokenDocument>("apiTokens");
        _tokens.EnsureIndex(t => t.Hash, unique: true);
        _tokens.EnsureIndex(t => t.UserId);
    }

    /// <inheritdoc />
    public void Add(ApiToken token) => _tokens.Insert(ApiTokenDocument.From(token));

    /// <inheritdoc />
    public ApiToken? FindByHash(string hash) => _tokens.FindOne(t => t.Hash == hash)?.ToToken();

    /// <inheritdoc />
    public bool Exists(string id) => _tokens.Exists(t => t.Id == id);

    /// <inheritdoc />
    public IReadOnlyList<ApiToken> ListForUser(string userId) =>
        _tokens.Find(t => t.UserId == userId).OrderBy(t => t.CreatedAt).Select(t => t.ToToken()).ToList();

    /// <inheritdoc />
    public bool Delete(string userId, string id) => _tokens.DeleteMany(t => t.Id == id && t.UserId == userId) > 0;

    /// <inheritdoc />
    public int DeleteForUser(string userId) => _tokens.DeleteMany(t => t.UserId == userId);

    /// <inheritdoc />
    public void RecordUse(string id, DateTime at)
    {
        if (_tokens.FindById(id) is { } doc)
        {
            doc.LastUsedAt = at;
            _tokens.Update(doc);
        }
    }

    /// <summary>The stored form of an <see cref="ApiToken"/> (LiteDB maps classes with setters).</summary>
    public sealed class ApiTokenDocument
    {
        public string Id { get; set; } = "";
        public string UserId { get; set; } = "";
        public string Name { get; set; } = "";
        public string Hash { get; set; } = "";
        public string Hint { get; set; } = "";
        public string Stamp { get; set; } = "";
        public DateTime CreatedAt { get; set; }
        public DateTime? LastUsedAt { get; set; }

        internal static ApiTokenDocument From(ApiToken t) => new()
        {
            Id = t.Id, UserId = t.UserId, Name = t.Name, Hash = t.Hash, Hint = t.Hint, Stamp = t.Stamp, CreatedAt = t.CreatedAt, LastUsedAt = t.LastUsedAt,
        };

        internal ApiToken ToToken() => new(Id, UserId, Name, Hash, Hint, Stamp, CreatedAt, LastUsedAt);
    }
}
