using System.Text.Json;
using MedZoo.Engine.Checkpoints;
using MedZoo.Engine.Training;
using MedZoo.Tests.TestSupport;
using MedZoo.Tests.Web.Cli;
using MedZoo.Tests.Web.Runs;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Cli;
using MedZoo.Web.Persistence.Postgres;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Live;
using MedZoo.Web.Settings;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MedZoo.Tests.Cluster;

/// <summary>
/// <c>medzoo train --record</c> in cluster mode, on real PostgreSQL and Redis: a web node imports the journals of its data
/// folder into PostgreSQL as an embedded dashboard imports them into LiteDB, and web nodes that share a data folder
/// import each journal once between them (a claim per journal, a PostgreSQL advisory lock).
/// </summary>
public sealed class ClusterJournalImportTests(ClusterNode node) : IClassFixture<ClusterNode>
{
    /// <summary>The cluster's database as another process sees it (never through the node's own services).</summary>
    private sealed class Database : IDisposable
    {
        public Database(string connectionString)
        {
            Postgres = new PostgresDatabase(connectionString);
            Runs = new PostgresRunStore(Postgres);
            Checkpoints = new PostgresCheckpointStore(Postgres);
            Journals = new PostgresJournalStore(Postgres);
        }

        public PostgresDatabase Postgres { get; }
        public PostgresRunStore Runs { get; }
        public PostgresCheckpointStore Checkpoints { get; }
        public PostgresJournalStore Journals { get; }

        public void Dispose() => Postgres.Dispose();
    }

    private static async Task<(int Code, string Out, string Error)> TrainAsync(string output, string runId, string dataDirectory)
    {
        var stdout = new StringWriter();
        var err = new StringWriter();
        string[] args = [.. TrainInferVerbTests.TrainedRun.Arguments(output, epochs: 2), "--run_id", runId, "--data_dir", dataDirectory];
        var code = await Task.Run(() => CliApp.Run(args, stdout, err));
        return (code, stdout.ToString(), err.ToString());
    }

    private static async Task<RunRecord> WaitAsync(IRunStore runs, string runId, Func<RunRecord, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (true)
        {
            var run = runs.Get(runId);
            if (run is not null && condition(run)) return run;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"timed out waiting for {what}: run {runId} is {(run is null ? "not in the cluster's database" : $"{run.Status} ({run.Reason})")}");
            await Task.Delay(100);
        }
    }

    private static async Task WaitForNoJournalsAsync(string dataDirectory)
    {
        var dir = Path.Combine(dataDirectory, "journal");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (Directory.Exists(dir) && Directory.GetFiles(dir, "*" + RunJournal.Extension).Length > 0)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the imported journal was not removed: {string.Join(", ", Directory.GetFiles(dir))}");
            await Task.Delay(100);
        }
    }

    private static void AssertImportedOnce(Database db, string runId, string output)
    {
        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json"))).RootElement;
        var run = db.Runs.Get(runId)!;
        Assert.Equal(RunSource.Cli, run.Source);
        Assert.Equal(RunStatus.Completed, run.Status);
        Assert.Equal(1, run.Sessions); // a second import of the header would have begun a second session
        Assert.Equal(2, run.EpochsCompleted);
        Assert.Equal(summary.GetProperty("bestEpoch").GetInt32(), run.BestEpoch);
        Assert.Equal(summary.GetProperty("globalStep").GetInt64(), db.Runs.Metrics(runId, MetricKind.Step).Count);
        Assert.Equal([1, 2], db.Runs.Metrics(runId, MetricKind.Epoch).Select(m => m.Epoch));
        Assert.Equal(["best", "last"], db.Checkpoints.List(runId).Select(c => c.Kind).Order());
        Assert.Single(db.Runs.Events(runId), e => e.Kind == "started");
        using var last = db.Checkpoints.OpenRead(runId, "last");
        Assert.NotNull(last);
        Assert.Equal(2, Checkpoint.ReadHeader(last).Epoch);
    }

    [Fact]
    public async Task Train_RecordedIntoAWebNodesDataFolder_RunMetricsAndCheckpointsInPostgres()
    {
        using var output = TestPaths.NewTempFolder();
        var (code, stdout, err) = await TrainAsync(output.File("run"), "cluster-cli-1", node.DataDirectory);
        Assert.True(code == 0, err);
        Assert.Contains($"recorded for the dashboard in {Path.Combine(node.DataDirectory, "journal")}", stdout);

        using var db = new Database(node.Servers.Postgres);
        await WaitAsync(db.Runs, "cluster-cli-1", r => r.Status == RunStatus.Completed, "the node to import the headless run");
        await WaitForNoJournalsAsync(node.DataDirectory);
        AssertImportedOnce(db, "cluster-cli-1", output.File("run"));
    }

    [Fact]
    public async Task Train_TwoWebNodesShareTheDataFolder_JournalImportedOnce()
    {
        // A second web node on the same servers and the same data folder (a shared volume): both import its journals.
        await using var second = new MedZooAppFactory(node.DataDirectory, executor: null);
        second.Settings["MedZoo:Cluster:Enabled"] = "true";
        second.Settings["MedZoo:Cluster:Postgres"] = node.Servers.Postgres;
        second.Settings["MedZoo:Cluster:Redis"] = node.Servers.Redis;
        second.Start();
        using var output = TestPaths.NewTempFolder();

        var (code, _, err) = await TrainAsync(output.File("run"), "cluster-cli-shared", node.DataDirectory);
        Assert.True(code == 0, err);

        using var db = new Database(node.Servers.Postgres);
        await WaitAsync(db.Runs, "cluster-cli-shared", r => r.Status == RunStatus.Completed, "a node to import the headless run");
        await WaitForNoJournalsAsync(node.DataDirectory);
        AssertImportedOnce(db, "cluster-cli-shared", output.File("run"));
        Assert.Empty(Directory.GetFiles(Path.Combine(node.DataDirectory, "journal"), "*", SearchOption.AllDirectories)); // nothing quarantined
    }

    /// <summary>What a headless run uses for checkpoints: files in its output folder (MedZoo's layout, torch-free bytes).</summary>
    private sealed class FolderStore(string dir) : ICheckpointStore
    {
        public string Save(string runId, string kind, int epoch, Action<Stream> write)
        {
            var path = Path.Combine(dir, $"{kind}.ckpt");
            File.WriteAllBytes(path, TestCheckpoints.Bytes(runId, kind, epoch));
            return path;
        }

        public Stream? OpenRead(string runId, string kind) => null;
    }

    [Fact]
    public async Task ImportAll_JournalClaimedByAnotherNode_LeftUntilTheClaimEnds()
    {
        using var data = TestPaths.NewTempFolder();
        using var output = TestPaths.NewTempFolder();
        var options = new DataOptions { DataDirectory = data.Path };
        var header = new RunJournalHeader
        {
            RunId = "cluster-claimed", Name = "cli run", CreatedBy = "alice", CreatedAt = DateTime.UtcNow, ConfigJson = ScriptedRunExecutor.Json(),
            Model = "FAKE", Dataset = "synthetic", Epochs = 2, ProcessId = Environment.ProcessId, Host = Environment.MachineName, OutputDirectory = output.Path,
        };
        string journalName;
        using (var journal = new RunJournalWriter(options.JournalDirectory, header))
        {
            journalName = Path.GetFileName(journal.Path);
            using var control = new TrainingControl();
            new ScriptedRunExecutor().Execute(new RunExecution("cluster-claimed", ScriptedRunExecutor.Json(epochs: 2, stepsPerEpoch: 3), false, journal, control,
                new FolderStore(output.Path)));
        }

        // This "node": the production importer over the cluster's database, on its own folder.
        using var db = new Database(node.Servers.Postgres);
        var recorder = new RunEventRecorder(db.Runs, db.Runs, db.Runs, db.Runs, NullLogger<RunEventRecorder>.Instance, db.Checkpoints);
        await recorder.StartAsync(CancellationToken.None);
        try
        {
            var importer = new RunJournalImporter(Options.Create(options), db.Runs, db.Journals, new RunNotifier(recorder, NullLogger<RunNotifier>.Instance),
                recorder, db.Checkpoints, NullLogger<RunJournalImporter>.Instance);
            // Another node, mid-import of the same journal, holds its claim (its own connection to the database).
            using var other = new Database(node.Servers.Postgres);
            var claim = other.Journals.TryClaim(journalName);
            Assert.NotNull(claim);

            await importer.ImportAllAsync();
            Assert.Null(db.Runs.Get("cluster-claimed"));
            Assert.Null(db.Journals.Get(journalName));
            Assert.True(File.Exists(Path.Combine(options.JournalDirectory, journalName)));

            claim.Dispose();
            await importer.ImportAllAsync();
            var run = db.Runs.Get("cluster-claimed")!;
            Assert.Equal(RunStatus.Completed, run.Status);
            Assert.Equal(1, run.Sessions);
            Assert.Equal(6, db.Runs.Metrics("cluster-claimed", MetricKind.Step).Count);
            Assert.Equal(2, db.Checkpoints.Find("cluster-claimed", "last")!.Epoch);
            Assert.False(File.Exists(Path.Combine(options.JournalDirectory, journalName)));
        }
        finally
        {
            await recorder.StopAsync(CancellationToken.None);
            recorder.Dispose();
        }
    }
}
