namespace MedZoo.Web.Sweeps;

/// <summary>Where sweeps live (LiteDB in one process; another store in a cluster).</summary>
public interface ISweepStore
{
    /// <summary>Stores a new sweep.</summary>
    void Insert(SweepRecord sweep);

    /// <summary>A sweep, or null.</summary>
    SweepRecord? Get(string id);

    /// <summary>Every sweep, newest first.</summary>
    IReadOnlyList<SweepRecord> List();

    /// <summary>Applies <paramref name="change"/> to a stored sweep atomically; returns the stored result, or null when it does not exist.</summary>
    SweepRecord? Update(string id, Action<SweepRecord> change);

    /// <summary>Deletes a sweep (its runs stay).</summary>
    bool Delete(string id);
}
