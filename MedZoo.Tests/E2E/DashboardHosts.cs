using MedZoo.Tests.Web.Support;
using MedZoo.Web.Runs;

namespace MedZoo.Tests.E2E;

/// <summary>
/// How a browser test hosts the dashboard: embedded (<see cref="EmbeddedHosts"/>: one process, LiteDB, the trainer in
/// it) or as a cluster (<see cref="Cluster.ClusterHosts"/>: a web node on PostgreSQL and Redis, its runs trained by a
/// worker), so that one test proves the same behaviour in both deployment shapes.
/// </summary>
public interface IDashboardHosts
{
    /// <summary>True for cluster mode.</summary>
    bool IsCluster { get; }

    /// <summary>
    /// A dashboard (not started) on <paramref name="dataDirectory"/> whose runs <paramref name="executor"/> trains (null:
    /// the real trainer). Another one on the same folder after disposing the first is a restart on the same data.
    /// </summary>
    MedZooAppFactory NewApp(string dataDirectory, IRunExecutor? executor, bool configureAdmin = true);
}

/// <summary>The embedded mode: the dashboard and its trainer in one process on a LiteDB file in the data folder.</summary>
public sealed class EmbeddedHosts : IDashboardHosts
{
    /// <summary>The one instance (it holds nothing).</summary>
    public static readonly EmbeddedHosts Instance = new();

    private EmbeddedHosts()
    {
    }

    /// <inheritdoc />
    public bool IsCluster => false;

    /// <inheritdoc />
    public MedZooAppFactory NewApp(string dataDirectory, IRunExecutor? executor, bool configureAdmin = true) =>
        new(dataDirectory, executor, configureAdmin);
}

/// <summary>
/// A browser test class that runs in either mode: embedded as it is, in cluster mode as its <c>…_Cluster</c> subclass
/// (in the <see cref="Cluster.ClusterHosts.Collection"/> collection) that overrides <see cref="Hosts"/>.
/// </summary>
public abstract class E2ETest
{
    /// <summary>Where this class's dashboards run (embedded unless a subclass says otherwise).</summary>
    protected virtual IDashboardHosts Hosts => EmbeddedHosts.Instance;

    /// <summary>A dashboard in this class's mode (see <see cref="IDashboardHosts.NewApp"/>).</summary>
    protected MedZooAppFactory NewApp(string dataDirectory, IRunExecutor? executor, bool configureAdmin = true) =>
        Hosts.NewApp(dataDirectory, executor, configureAdmin);
}
