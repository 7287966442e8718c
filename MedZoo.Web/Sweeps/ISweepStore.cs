namespace MedZoo.Web.Sweeps;

/// <summary>Where sweeps live (LiteDB in one process; another store in a cluster).</summary>
public interface ISweepStore
{
    /// <summary>Stores a new sweep.</summary>
    void Insert(SweepDocument sweep);

    /// <summary>A sweep, or null.</summary>
    SweepDocument? Get(string id);

    /// <summary>Every sweep, newest first.</summary>
    IReadOnlyList<SweepDocument> List();

    /// <summary>Applies <paramref name="change"/> to a stored sweep atomically; returns the stored result, or null when it does not exist.</summary>
    SweepDocument? Update(string id, Action<SweepDocument> change);

    /// <summary>Deletes a sweep (its runs stay).</summary>
    bool Delete(string id);
}
