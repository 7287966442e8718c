using MedZoo.Web.Settings;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MedZoo.Web.Reviews;

/// <summary>Registers review inference, uploads and their storage.</summary>
public static class ReviewsExtensions
{
    public static WebApplicationBuilder AddMedZooReviews(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSettings<ReviewOptions>(builder.Configuration, ReviewOptions.Section, o => o.Validate());
        services.AddSingleton<ReviewStorage>();
        // Cluster mode registers the shared PostgreSQL files and the Hangfire queue before this (MedZoo.Web.Cluster).
        services.TryAddSingleton<IReviewFiles, LocalReviewFiles>();
        services.AddSingleton<ReviewNotifier>();
        services.AddSingleton<UploadService>();
        services.AddSingleton<ReviewRunner>();
        if (!ClusterOptions.IsEnabled(builder.Configuration))
        {
            // Web nodes of a cluster run no review: the workers do.
            services.AddSingleton<ReviewWorker>();
            services.AddSingleton<IReviewQueue>(sp => sp.GetRequiredService<ReviewWorker>());
            services.AddHostedService(sp => sp.GetRequiredService<ReviewWorker>());
        }
        services.AddSingleton<ReviewService>();
        return builder;
    }
}
