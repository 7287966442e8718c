namespace MedZoo.Web.Models;

/// <summary>Registers the model zoo page's services.</summary>
public static class ModelsExtensions
{
    /// <summary>The <see cref="ModelCatalog"/> (one per process: parameter counts are computed once).</summary>
    public static WebApplicationBuilder AddMedZooModels(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ModelCatalog>();
        return builder;
    }
}
