using LiteDB;
using MedZoo.Web.Sweeps;

namespace MedZoo.Web.Persistence;

/// <summary>Sweeps in the dashboard's database (collection <c>sweeps</c>; one small document per sweep).</summary>
public sealed class LiteDbSweepStore : ISweepStore
{
    private readonly ILiteCollection<SweepRecord> _sweeps;
    private readonly Lock _gate = new();

    public LiteDbSweepStore(MedZooDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        _sweeps = database.Db.GetCollection<SweepRecord>("sweeps");
    }

    public void Insert(SweepRecord sweep)
    {
        lock (_gate) _sweeps.Insert(sweep);
    }

    public SweepRecord? Get(string id)
    {
        lock (_gate) return _sweeps.FindById(id);
    }

    public IReadOnlyList<SweepRecord> List()
    {
        lock (_gate) return _sweeps.FindAll().OrderByDescending(s => s.CreatedAt).ToList();
    }

    public SweepRecord? Update(string id, Action<SweepRecord> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        lock (_gate)
        {
            var sweep = _sweeps.FindById(id);
            if (sweep is null) return null;
            change(sweep);
            _sweeps.Update(sweep);
            return sweep;
        }
    }

    public bool Delete(string id)
    {
        lock (_gate) return _sweeps.Delete(id);
    }
}
