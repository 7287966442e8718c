namespace MedZoo.Web.Sweeps;

/// <summary>Registers sweeps: the service that queues trials and halves them (its store comes with the storage engine).</summary>
public static class SweepsExtensions
{
    /// <summary>The sweep service (a hosted service: it follows trials' epochs); the storage registration adds its store.</summary>
    public static IServiceCollection AddMedZooSweeps(this IServiceCollection services)
    {
        services.AddSingleton<SweepService>();
        services.AddHostedService(sp => sp.GetRequiredService<SweepService>());
        return services;
    }
}
