using MedZoo.Web.Runs;
using static MedZoo.Web.Persistence.Postgres.PostgresDatabase;

namespace MedZoo.Web.Persistence.Postgres;

/// <summary>The PostgreSQL implementation of <see cref="IRunJournalStore"/>: table <c>journals</c>, one row per journal file.</summary>
public sealed class PostgresJournalStore(PostgresDatabase database) : IRunJournalStore
{
    /// <inheritdoc />
    public JournalRecord? Get(string name) => database.Run(c => Documents<JournalRecord>(c, "SELECT doc FROM journals WHERE id = $1", name).FirstOrDefault());

    /// <inheritdoc />
    public void Save(JournalRecord journal)
    {
        ArgumentNullException.ThrowIfNull(journal);
        database.Run(c => Execute(c, "INSERT INTO journals (id, doc) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc", journal.Id, ToJson(journal)));
    }

    /// <inheritdoc />
    public bool Delete(string name) => database.Run(c => Execute(c, "DELETE FROM journals WHERE id = $1", name)) > 0;

    /// <inheritdoc />
    /// <remarks>
    /// Nothing to do: PostgreSQL makes a transaction durable (its WAL flushed to disk) before the commit returns, with the
    /// default <c>synchronous_commit = on</c>; every write of this store has committed by the time it returns.
    /// </remarks>
    public void Flush()
    {
    }
}
