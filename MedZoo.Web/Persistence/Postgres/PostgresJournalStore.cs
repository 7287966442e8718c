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

    // Advisory locks of two keys (class, object) never meet the one-key locks that serialize schema creation.
    private const int ClaimClass = 0x4D5A4A4E; // "MZJN"

    /// <inheritdoc />
    /// <remarks>
    /// A session-level advisory lock, <c>pg_try_advisory_lock(class, hashtext(name))</c>, held on a connection of its own
    /// outside the pool: disposing the claim closes that connection, which ends the session and its lock; a node that
    /// dies ends it too (the server notices the closed socket), so a journal is never left claimed by nobody. Two names
    /// whose hashes collide merely take turns. Chosen over an idempotent insert keyed by the run: an import is a
    /// read-modify-write of the journal's offset over many transactions (the run's header, batches of events, the
    /// checkpoint copies, the file's deletion), and two nodes reading the same offset would begin the run twice (a
    /// second session) and copy its checkpoints twice.
    /// </remarks>
    public IDisposable? TryClaim(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var connection = database.OpenUnpooled();
        try
        {
            if (Query(connection, "SELECT pg_try_advisory_lock($1, hashtext($2))", r => r.GetBoolean(0), ClaimClass, name) is [true])
                return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
        connection.Dispose();
        return null;
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
