using MedZoo.Web.Sweeps;
using static MedZoo.Web.Persistence.Postgres.PostgresDatabase;

namespace MedZoo.Web.Persistence.Postgres;

/// <summary>The PostgreSQL implementation of <see cref="ISweepStore"/>: table <c>sweeps</c>, trials inside the row's JSONB; <see cref="Update"/> locks the row.</summary>
public sealed class PostgresSweepStore(PostgresDatabase database) : ISweepStore
{
    /// <inheritdoc />
    public void Insert(SweepRecord sweep)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        var doc = ToJson(sweep);
        database.Run(c => InsertNew(c, "sweeps", "INSERT INTO sweeps (id, created_at, doc) VALUES ($1, $2, $3)", doc, sweep.Id, sweep.CreatedAt.Ticks, doc));
    }

    /// <inheritdoc />
    public SweepRecord? Get(string id) => database.Run(c => Documents<SweepRecord>(c, "SELECT doc FROM sweeps WHERE id = $1", id).FirstOrDefault());

    /// <inheritdoc />
    public IReadOnlyList<SweepRecord> List() =>
        database.Run(c => Documents<SweepRecord>(c, "SELECT doc FROM sweeps ORDER BY created_at DESC, id COLLATE \"C\""));

    /// <inheritdoc />
    public SweepRecord? Update(string id, Action<SweepRecord> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        return database.Run(c =>
        {
            var sweep = Documents<SweepRecord>(c, "SELECT doc FROM sweeps WHERE id = $1 FOR UPDATE", id).FirstOrDefault();
            if (sweep is null) return null;
            change(sweep);
            Execute(c, "UPDATE sweeps SET created_at = $2, doc = $3 WHERE id = $1", id, sweep.CreatedAt.Ticks, ToJson(sweep));
            return sweep;
        }, transaction: true);
    }

    /// <inheritdoc />
    public bool Delete(string id) => database.Run(c => Execute(c, "DELETE FROM sweeps WHERE id = $1", id)) > 0;
}
