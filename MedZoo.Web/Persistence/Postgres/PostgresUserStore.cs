using MedZoo.Web.Accounts;
using static MedZoo.Web.Persistence.Postgres.PostgresDatabase;

namespace MedZoo.Web.Persistence.Postgres;

/// <summary>The PostgreSQL implementation of <see cref="IUserStore"/>: table <c>users</c>, one row per account, keyed by the lower-cased name.</summary>
public sealed class PostgresUserStore(PostgresDatabase database) : IUserStore
{
    /// <inheritdoc />
    public bool Any() => database.Run(c => Query(c, "SELECT EXISTS (SELECT 1 FROM users)", r => r.GetBoolean(0))[0]);

    /// <inheritdoc />
    public IReadOnlyList<UserRecord> List() => database.Run(c => Documents<UserRecord>(c, "SELECT doc FROM users ORDER BY id COLLATE \"C\""));

    /// <inheritdoc />
    public UserRecord? Find(string id) => database.Run(c => Documents<UserRecord>(c, "SELECT doc FROM users WHERE id = $1", id).FirstOrDefault());

    /// <inheritdoc />
    public int CountInRole(string role) => database.Run(c => Query(c, "SELECT count(*) FROM users WHERE role = $1", r => (int)r.GetInt64(0), role)[0]);

    /// <inheritdoc />
    public bool Insert(UserRecord user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return database.Run(c => Execute(c, "INSERT INTO users (id, role, doc) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING", user.Id, user.Role, ToJson(user))) > 0;
    }

    /// <inheritdoc />
    public bool Update(UserRecord user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return database.Run(c => Execute(c, "UPDATE users SET role = $2, doc = $3 WHERE id = $1", user.Id, user.Role, ToJson(user))) > 0;
    }

    /// <inheritdoc />
    public bool Delete(string id) => database.Run(c => Execute(c, "DELETE FROM users WHERE id = $1", id)) > 0;
}
