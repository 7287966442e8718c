using MedZoo.Web.Settings;

namespace MedZoo.Web.Datasets;

/// <summary>Registers the datasets feature.</summary>
public static class DatasetsExtensions
{
    /// <summary>The dataset service and its options (<c>MedZoo:Data</c>: data roots and the memory budget, validated at start).</summary>
    public static WebApplicationBuilder AddMedZooDatasets(this WebApplicationBuilder builder)
    {
        builder.Services.AddSettings<DataAccessOptions>(builder.Configuration, DataAccessOptions.Section, o => o.Validate());
        builder.Services.AddSingleton<DatasetService>();
        return builder;
    }
}
