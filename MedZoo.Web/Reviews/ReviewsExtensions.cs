using MedZoo.Web.Settings;

namespace MedZoo.Web.Reviews;

/// <summary>Registers review inference, uploads and their storage.</summary>
public static class ReviewsExtensions
{
    public static WebApplicationBuilder AddMedZooReviews(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSettings<ReviewOptions>(builder.Configuration, ReviewOptions.Section, o => o.Validate());
        services.AddSingleton<ReviewStorage>();
        services.AddSingleton<ReviewNotifier>();
        services.AddSingleton<UploadService>();
        services.AddSingleton<ReviewWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<ReviewWorker>());
        services.AddSingleton<ReviewService>();
        return builder;
    }
}
