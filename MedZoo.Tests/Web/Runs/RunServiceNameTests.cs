using MedZoo.Tests.Web.Support;
using MedZoo.Web.Runs;
using static MedZoo.Tests.Web.Support.AppTestHelpers;

namespace MedZoo.Tests.Web.Runs;

public class RunServiceNameTests
{
    private static readonly RunPlan Plan = new("UNET3D_CICEK", "synthetic", 12, "cpu");
    private static readonly DateTime Created = new(2026, 12, 6, 20, 47, 0, DateTimeKind.Utc);

    [Fact]
    public void DefaultName_PresetOfTheDataset_NamesModelDatasetPresetTimeAndId()
    {
        var name = RunService.DefaultName(Plan, "synthetic: demo", Created, "20261206-204700-3f2a9c");
        var local = Created.ToLocalTime().ToString("MMM d HH:mm", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal($"UNET3D_CICEK on synthetic (demo) · {local} · #3f2a9c", name);
    }

    [Fact]
    public void DefaultName_EditedConfiguration_LeavesThePresetOut()
    {
        var name = RunService.DefaultName(Plan, null, Created, "20261206-204700-3f2a9c");
        Assert.StartsWith("UNET3D_CICEK on synthetic · ", name);
        Assert.EndsWith(" · #3f2a9c", name);
    }

    [Fact]
    public async Task Start_NoNameFromAnUnchangedPreset_NamesThePresetAndDiffersPerRun()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        var executor = new ScriptedRunExecutor { StepGate = new SemaphoreSlim(0) };
        await using var app = new MedZooAppFactory(folder.Path, executor);
        app.Start();
        var preset = executor.Form.Presets[0];
        var json = RunConfigJson.Serialize(preset.Create());

        var a = app.Service().Start(Admin, "", json);
        var b = app.Service().Start(Admin, "", json);
        var edited = app.Service().Start(Admin, "", ScriptedRunExecutor.Json(epochs: 7));

        Assert.Contains($"({preset.Name})", a.Name);
        Assert.NotEqual(a.Name, b.Name);
        Assert.DoesNotContain($"({preset.Name})", edited.Name);
        foreach (var r in new[] { a, b, edited }) app.Service().Stop(Admin, r.Id);
        executor.StepGate.Release(100);
    }
}
