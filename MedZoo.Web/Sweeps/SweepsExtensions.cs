namespace MedZoo.Web.Sweeps;

/// <summary>Registers sweeps: their store, the service that queues trials and halves them, and its endpoints.</summary>
public static class SweepsExtensions
{
    /// <summary>The LiteDB sweep store and the sweep service (a hosted service: it follows trials' epochs).</summary>
    public static IServiceCollection AddMedZooSweeps(this IServiceCollection services)
    {
        services.AddSingleton<ISweepStore, LiteDbSweepStore>();
        services.AddSingleton<SweepService>();
        services.AddHostedService(sp => sp.GetRequiredService<SweepService>());
        return services;
    }
}
