namespace MedZoo.Web.Runs;

/// <summary>
/// How far the server has imported each headless run's journal (<see cref="RunJournalImporter"/>):
/// the offset only moves past lines whose events are stored, so an import resumes where it stopped.
/// </summary>
public interface IRunJournalStore
{
    /// <summary>The import state of the journal file called <paramref name="name"/>, or null if it was never seen.</summary>
    JournalRecord? Get(string name);

    /// <summary>Stores a journal's import state (inside <see cref="IRunStore.WriteBatch"/> when it must change with a run).</summary>
    void Save(JournalRecord journal);

    /// <summary>
    /// Claims the journal file called <paramref name="name"/> for the caller until it disposes the result, or returns null
    /// while another importer holds it: in cluster mode web nodes that share a data folder all see the same journals,
    /// and each journal must be imported by one of them at a time. A claim ends with its holder's process.
    /// </summary>
    IDisposable? TryClaim(string name);

    /// <summary>Forgets a journal (it was quarantined); false if there was nothing to forget.</summary>
    bool Delete(string name);

    /// <summary>
    /// Makes every write committed so far durable on disk: the journal file, the only other copy of its
    /// events, is deleted only after this returns.
    /// </summary>
    void Flush();
}
