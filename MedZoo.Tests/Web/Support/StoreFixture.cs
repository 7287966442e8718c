using MedZoo.Tests.TestSupport;
using MedZoo.Web.Live;
using MedZoo.Web.Persistence;
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
        Recorder = new RunEventRecorder(Database, Runs, NullLogger<RunEventRecorder>.Instance, Checkpoints);
        Recorder.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
        Notifier = new RunNotifier(Recorder, NullLogger<RunNotifier>.Instance);
    }

    public TempFolder Folder { get; }
    public MedZooDatabase Database { get; }
    public RunRepository Runs { get; }
    public LiteDbCheckpointStore Checkpoints { get; }
    public RunEventRecorder Recorder { get; }
    public RunNotifier Notifier { get; }

    /// <summary>Inserts a queued dashboard run.</summary>
    public RunDocument AddRun(string id, RunStatus status = RunStatus.Running)
    {
        var run = new RunDocument { Id = id, Name = id, Status = status, CreatedAt = DateTime.UtcNow, CreatedBy = "tester", ConfigJson = ScriptedRunExecutor.Json() };
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
