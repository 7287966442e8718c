using System.Diagnostics;
using MedZoo.Engine.Training;
using MedZoo.Tests.TestSupport;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Persistence;
using MedZoo.Web.Runs;
using Microsoft.Extensions.Logging.Abstractions;

namespace MedZoo.Tests.Web.Persistence;

/// <summary>
/// kill -9 of a real server process (the built <c>medzoo.dll</c>) while it imports a long journal, at
/// several moments; after each, the database must open and a fresh import must leave every step point
/// exactly once and the run completed.
/// </summary>
public sealed class KillTests
{
    private const int Steps = 20_000;

    [Fact]
    public async Task Server_KilledWhileImporting_ReopensAndTheNextImportStoresEveryPointOnce()
    {
        var server = Path.Combine(AppContext.BaseDirectory, "medzoo.dll");
        Assert.True(File.Exists(server), $"{server} is built with the tests");
        var storedAtKill = new List<int>();
        foreach (var delayMs in new[] { 0, 1000, 2500 })
        {
            using var folder = TestPaths.NewTempFolder();
            var journals = Path.Combine(folder.Path, "journal");
            Directory.CreateDirectory(journals);
            WriteJournal(Path.Combine(journals, $"cli.{DeadPid()}.20261206000000000{RunJournal.Extension}"));

            var killedAfterImportBegan = await RunAndKillAsync(server, folder.Path, TimeSpan.FromMilliseconds(delayMs));

            await using var f = new StoreFixture(folder); // the database opens
            storedAtKill.Add(f.Runs.Metrics("cli", MetricKind.Step).Count);
            var importer = new RunJournalImporter(f.DataOptions, f.Runs, new JournalRepository(f.Database), f.Notifier, f.Recorder, f.Checkpoints, NullLogger<RunJournalImporter>.Instance);
            for (var pass = 0; pass < 20 && Directory.EnumerateFiles(journals, "*" + RunJournal.Extension).Any(); pass++)
                await importer.ImportAllAsync();
            await f.Recorder.FlushAsync();

            Assert.Empty(Directory.EnumerateFiles(journals, "*" + RunJournal.Extension));
            var steps = f.Runs.Metrics("cli", MetricKind.Step).Select(m => m.GlobalStep).ToList();
            Assert.True(steps.SequenceEqual(Enumerable.Range(1, Steps).Select(i => (long)i)),
                $"killed {delayMs} ms after the import began ({killedAfterImportBegan}): {steps.Count} step points, {steps.Distinct().Count()} distinct");
            Assert.Equal(RunStatus.Completed, f.Runs.Get("cli")!.Status);
            Assert.Equal(1, f.Runs.Get("cli")!.Sessions);
        }
        // At least one kill landed mid-import, with part of the journal stored, or the test proved nothing.
        Assert.True(storedAtKill.Any(n => n is > 0 and < Steps), $"step points stored when killed: {string.Join(", ", storedAtKill)}");
    }

    private static void WriteJournal(string path)
    {
        using var w = new StreamWriter(path) { NewLine = "\n" };
        w.WriteLine(RunJournal.HeaderLine(new RunJournalHeader
        {
            RunId = "cli", Name = "killed", CreatedBy = "tester", CreatedAt = DateTime.UtcNow, ConfigJson = ScriptedRunExecutor.Json(),
            Model = "FAKE", Dataset = "synthetic", Epochs = 1, ProcessId = 1, Host = "elsewhere",
        }));
        for (var i = 1; i <= Steps; i++)
            w.WriteLine(RunJournal.EventLine(i, new StepCompleted
            {
                RunId = "cli", Epoch = 1, Step = i, StepsPerEpoch = Steps, GlobalStep = i, Loss = 1.0 / i, LearningRate = 1e-3, Dice = [0.9, 0.5],
            }));
        w.WriteLine(RunJournal.EventLine(Steps + 1, new RunFinished { RunId = "cli", Outcome = RunOutcome.Completed, EpochsCompleted = 1 }));
    }

    // Starts the server on the folder, waits until it reports the import began, waits delay more and kills it (SIGKILL).
    private static async Task<string> RunAndKillAsync(string server, string dataFolder, TimeSpan delay)
    {
        var start = new ProcessStartInfo("dotnet", [server, "--urls", "http://127.0.0.1:0"])
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
            Environment = { ["MedZoo__DataDirectory"] = dataFolder, ["ASPNETCORE_ENVIRONMENT"] = "Production", ["Logging__LogLevel__Default"] = "Information" },
        };
        using var process = Process.Start(start)!;
        var began = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => Collect(e.Data);
        process.ErrorDataReceived += (_, e) => Collect(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var first = await Task.WhenAny(began.Task, process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(60)));
            Assert.True(began.Task.IsCompleted, $"the server did not begin importing: {string.Join('\n', output)}");
            await Task.Delay(delay);
            return process.HasExited ? "the server had finished already" : "mid-import";
        }
        finally
        {
            if (!process.HasExited) process.Kill(); // SIGKILL: no shutdown code runs
            await process.WaitForExitAsync();
        }

        void Collect(string? line)
        {
            if (line is null) return;
            output.Enqueue(line);
            if (line.Contains("Recording command-line run", StringComparison.Ordinal)) began.TrySetResult();
        }
    }

    private static int DeadPid()
    {
        using var gone = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        gone.WaitForExit();
        return gone.Id;
    }
}
