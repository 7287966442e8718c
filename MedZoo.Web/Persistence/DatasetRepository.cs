using LiteDB;
using MedZoo.Web.Datasets;

namespace MedZoo.Web.Persistence;

/// <summary>The LiteDB implementation of <see cref="IDatasetStore"/> (collections <c>datasets</c>, <c>dataset_plans</c> and <c>data_roots</c>).</summary>
public sealed class DatasetRepository(MedZooDatabase database) : IDatasetStore
{
    private ILiteCollection<DataRootRecord> StoredRoots => database.Db.GetCollection<DataRootRecord>("data_roots");
    private ILiteCollection<DatasetPlanRecord> Plans => database.Db.GetCollection<DatasetPlanRecord>("dataset_plans");

    /// <inheritdoc />
    public IReadOnlyList<DatasetRecord> List() => database.Datasets.FindAll().OrderBy(d => d.Id).ToList();

    /// <inheritdoc />
    public bool Insert(DatasetRecord dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (database.Datasets.FindById(dataset.Id) is not null) return false;
        database.Datasets.Insert(dataset);
        return true;
    }

    /// <inheritdoc />
    public bool Delete(string name)
    {
        Plans.Delete(name);
        return database.Datasets.Delete(name);
    }

    /// <inheritdoc />
    public DatasetPlanRecord? FindPlan(string name) => Plans.FindById(name);

    /// <inheritdoc />
    public void SavePlan(DatasetPlanRecord plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        Plans.Upsert(plan);
    }

    /// <inheritdoc />
    public IReadOnlyList<DataRootRecord> Roots() => StoredRoots.FindAll().OrderBy(d => d.Name, StringComparer.Ordinal).ToList();

    /// <inheritdoc />
    public bool InsertRoot(DataRootRecord root)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (StoredRoots.FindById(root.Name) is not null) return false;
        StoredRoots.Insert(root);
        return true;
    }

    /// <inheritdoc />
    public bool DeleteRoot(string name) => StoredRoots.Delete(name);
}
