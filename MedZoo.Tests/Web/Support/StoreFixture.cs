using MedZoo.Tests.TestSupport;
using MedZoo.Web.Accounts;
using MedZoo.Web.Datasets;
using MedZoo.Web.Persistence;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Live;
using MedZoo.Web.Settings;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MedZoo.Tests.Web.Support;

/// <summary>The persistence and live pieces wired by hand (no web host): database, repository, recorder, notifier.</summary>
public sealed class StoreFixture : IAsyncDisposable
{
    private readonly bool _ownsFolder;

    public StoreFixture(TempFolder? folder = null)
    {
        _ownsFolder = folder is null;
        Folder = folder ?? TestPaths.NewTempFolder();
        Database = new MedZooDatabase(Options.Create(new DataOptions { DataDirectory = Folder.Path }));
        Runs = new RunRepository(Database);
        Checkpoints = new LiteDbCheckpointStore(Database);
        Recorder = new RunEventRecorder(Runs, Runs, Runs, Runs, NullLogger<RunEventRecorder>.Instance, Checkpoints);
        Recorder.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
        Notifier = new RunNotifier(Recorder, NullLogger<RunNotifier>.Instance);
        Users = new UserRepository(Database);
        Datasets = new DatasetRepository(Database);
    }

    public TempFolder Folder { get; }
    public MedZooDatabase Database { get; }
    public RunRepository Runs { get; }
    public LiteDbCheckpointStore Checkpoints { get; }
    public RunEventRecorder Recorder { get; }
    public RunNotifier Notifier { get; }
    public UserRepository Users { get; }
    public DatasetRepository Datasets { get; }

    /// <summary>The data options the database was opened with.</summary>
    public IOptions<DataOptions> DataOptions => Options.Create(Database.Options);

    /// <summary>Registers these stores as the interfaces pages inject.</summary>
    public void AddStores(IServiceCollection services)
    {
        services.AddSingleton<IRunStore>(Runs);
        services.AddSingleton<IRunHistoryStore>(Runs);
        services.AddSingleton<IMetricStore>(Runs);
        services.AddSingleton<IRunEventStore>(Runs);
        services.AddSingleton<IPreviewStore>(Runs);
        services.AddSingleton<IRunCheckpointStore>(Checkpoints);
        services.AddSingleton<IUserStore>(Users);
        services.AddSingleton<IDatasetStore>(Datasets);
    }

    /// <summary>Inserts a queued dashboard run.</summary>
    public RunRecord AddRun(string id, RunStatus status = RunStatus.Running)
    {
        var run = new RunRecord { Id = id, Name = id, Status = status, CreatedAt = DateTime.UtcNow, CreatedBy = "tester", ConfigJson = ScriptedRunExecutor.Json() };
        Runs.Insert(run);
        return run;
    }

    public async ValueTask DisposeAsync()
    {
        await Recorder.StopAsync(CancellationToken.None);
        Recorder.Dispose();
        Database.Dispose();
        if (_ownsFolder) Folder.Dispose();
    }
}
