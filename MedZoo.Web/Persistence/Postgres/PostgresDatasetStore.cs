using MedZoo.Web.Datasets;
using static MedZoo.Web.Persistence.Postgres.PostgresDatabase;

namespace MedZoo.Web.Persistence.Postgres;

/// <summary>The PostgreSQL implementation of <see cref="IDatasetStore"/>: tables <c>datasets</c>, <c>dataset_plans</c> and <c>data_roots</c>, keyed by name.</summary>
public sealed class PostgresDatasetStore(PostgresDatabase database) : IDatasetStore
{
    /// <inheritdoc />
    public IReadOnlyList<DatasetRecord> List() => database.Run(c => Documents<DatasetRecord>(c, "SELECT doc FROM datasets ORDER BY id COLLATE \"C\""));

    /// <inheritdoc />
    public bool Insert(DatasetRecord dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return database.Run(c => Execute(c, "INSERT INTO datasets (id, doc) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING", dataset.Id, ToJson(dataset))) > 0;
    }

    /// <inheritdoc />
    public bool Delete(string name) =>
        // The dataset and its plan go together (one statement, one transaction).
        database.Run(c => Execute(c, "WITH plan AS (DELETE FROM dataset_plans WHERE id = $1) DELETE FROM datasets WHERE id = $1", name)) > 0;

    /// <inheritdoc />
    public DatasetPlanRecord? FindPlan(string name) =>
        database.Run(c => Documents<DatasetPlanRecord>(c, "SELECT doc FROM dataset_plans WHERE id = $1", name)).FirstOrDefault();

    /// <inheritdoc />
    public void SavePlan(DatasetPlanRecord plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        database.Run(c => Execute(c, "INSERT INTO dataset_plans (id, doc) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc", plan.Id, ToJson(plan)));
    }

    /// <inheritdoc />
    public IReadOnlyList<DataRootRecord> Roots() => database.Run(c => Documents<DataRootRecord>(c, "SELECT doc FROM data_roots ORDER BY id COLLATE \"C\""));

    /// <inheritdoc />
    public bool InsertRoot(DataRootRecord root)
    {
        ArgumentNullException.ThrowIfNull(root);
        return database.Run(c => Execute(c, "INSERT INTO data_roots (id, doc) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING", root.Name, ToJson(root))) > 0;
    }

    /// <inheritdoc />
    public bool DeleteRoot(string name) => database.Run(c => Execute(c, "DELETE FROM data_roots WHERE id = $1", name)) > 0;
}
