using System.Collections.Concurrent;
using MedZoo.Web.Runs;

namespace MedZoo.Web.Persistence;

/// <summary>The LiteDB implementation of <see cref="IRunJournalStore"/> (collection <c>journals</c>).</summary>
public sealed class JournalRepository(MedZooDatabase database) : IRunJournalStore
{
    /// <inheritdoc />
    public JournalRecord? Get(string name) => database.Journals.FindById(name);

    /// <inheritdoc />
    public void Save(JournalRecord journal)
    {
        ArgumentNullException.ThrowIfNull(journal);
        database.Journals.Upsert(journal);
    }

    private readonly ConcurrentDictionary<string, byte> _claims = new(StringComparer.Ordinal);

    /// <inheritdoc />
    /// <remarks>
    /// One server per data folder (the database's lock file), so only importers in this process can compete: the claims
    /// are kept in memory.
    /// </remarks>
    public IDisposable? TryClaim(string name) => _claims.TryAdd(name, 0) ? new Claim(() => _claims.TryRemove(name, out _)) : null;

    /// <inheritdoc />
    public bool Delete(string name) => database.Journals.Delete(name);

    /// <inheritdoc />
    /// <remarks>LiteDB writes committed transactions to the data file from a queue; a checkpoint waits for them.</remarks>
    public void Flush() => database.Db.Checkpoint();

    private sealed class Claim(Action release) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) release();
        }
    }
}
