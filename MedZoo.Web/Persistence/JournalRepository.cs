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

    /// <inheritdoc />
    public bool Delete(string name) => database.Journals.Delete(name);

    /// <inheritdoc />
    /// <remarks>LiteDB writes committed transactions to the data file from a queue; a checkpoint waits for them.</remarks>
    public void Flush() => database.Db.Checkpoint();
}
