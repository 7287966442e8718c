namespace MedZoo.Web.Datasets;

/// <summary>Registers the datasets feature.</summary>
public static class DatasetsExtensions
{
    public static WebApplicationBuilder AddMedZooDatasets(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<DatasetService>();
        return builder;
    }
}
