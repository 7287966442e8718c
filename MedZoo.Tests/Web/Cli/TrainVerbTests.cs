using System.Text.Json;
using MedZoo.Tests.TestSupport;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Cli;
using MedZoo.Web.Runs;

namespace MedZoo.Tests.Web.Cli;

/// <summary>
/// The train verb records its run into the dashboard's data folder: a dashboard running on that
/// folder imports the journal while the run trains and ends with the run, its metrics and its
/// checkpoints in its own store.
/// </summary>
public sealed class TrainVerbTests
{
    [Fact]
    public async Task Run_DashboardOnTheDataFolder_StoresTheRunWithItsMetricsAndCheckpoints()
    {
        using var data = MedZooAppFactory.NewDataFolder();
        using var output = TestPaths.NewTempFolder();
        await using var app = new MedZooAppFactory(data.Path, new ScriptedRunExecutor());
        app.Start();

        var err = new StringWriter();
        var stdout = new StringWriter();
        string[] args = [.. TrainInferVerbTests.TrainedRun.Arguments(output.File("run"), epochs: 2), "--run_id", "cli-recorded", "--data_dir", data.Path];
        var code = await Task.Run(() => CliApp.Run(args, stdout, err));
        Assert.True(code == 0, err.ToString());
        Assert.Contains($"recorded for the dashboard in {Path.Combine(data.Path, "journal")}", stdout.ToString());

        var run = await app.WaitForStatusAsync("cli-recorded", RunStatus.Completed);
        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output.File("run"), "summary.json"))).RootElement;
        Assert.Equal(RunSource.Cli, run.Source);
        Assert.Equal("UNET3D_CICEK", run.Model);
        Assert.Equal("synthetic", run.Dataset);
        Assert.Equal(2, run.EpochsCompleted);
        Assert.Equal(summary.GetProperty("bestMeanDice").GetDouble(), run.BestMeanDice!.Value, 1e-9);
        Assert.Equal(summary.GetProperty("bestEpoch").GetInt32(), run.BestEpoch);

        var metrics = app.Repository().Metrics(run.Id).ToList();
        Assert.Equal(summary.GetProperty("globalStep").GetInt64(), metrics.Count(m => m.Kind == MetricKind.Step));
        var epochs = metrics.Where(m => m.Kind == MetricKind.Epoch).OrderBy(m => m.Epoch).ToList();
        Assert.Equal([1, 2], epochs.Select(m => m.Epoch));
        var history = summary.GetProperty("history").EnumerateArray().ToList();
        for (var i = 0; i < 2; i++)
            Assert.Equal(history[i].GetProperty("trainLoss").GetDouble(), epochs[i].Loss, 1e-9);
        Assert.Equal(["best", "last"], app.Checkpoints().List(run.Id).Select(c => c.Kind));
        Assert.NotEmpty(app.Repository().Previews(run.Id));
    }
}
