namespace MedZoo.Web.Datasets;

/// <summary>
/// Datasets registered by path and the data roots admins added, as the Datasets page and the
/// checks before a run ask for them (the built-in synthetic datasets and the configured roots are not stored).
/// </summary>
public interface IDatasetStore
{
    /// <summary>Registered datasets by name.</summary>
    IReadOnlyList<DatasetRecord> List();

    /// <summary>Registers a dataset; false if the name is taken.</summary>
    bool Insert(DatasetRecord dataset);

    /// <summary>Removes a dataset's registration; false if there was none.</summary>
    bool Delete(string name);

    /// <summary>The stored plan of a dataset, or null.</summary>
    DatasetPlanRecord? FindPlan(string name);

    /// <summary>Stores (replaces) a dataset's plan.</summary>
    void SavePlan(DatasetPlanRecord plan);

    /// <summary>Data roots admins added, by name.</summary>
    IReadOnlyList<DataRootRecord> Roots();

    /// <summary>Adds a data root; false if the name is taken.</summary>
    bool InsertRoot(DataRootRecord root);

    /// <summary>Removes a data root; false if there was none.</summary>
    bool DeleteRoot(string name);
}
