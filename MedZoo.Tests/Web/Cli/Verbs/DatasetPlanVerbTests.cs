using System.Text.Json;
using MedZoo.Engine.Planning;
using MedZoo.Tests.TestSupport;
using MedZoo.Web.Cli;

namespace MedZoo.Tests.Web.Cli.Verbs;

/// <summary><c>medzoo dataset plan</c> and <c>medzoo train --plan</c>.</summary>
public class DatasetPlanVerbTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = CliApp.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void Plan_Synthetic_PrintsFingerprintAndReasonsAndWritesThePlan()
    {
        using var dir = TestPaths.NewTempFolder();
        var path = dir.File("plan.json");
        var (code, stdout, stderr) = Run("dataset", "plan", "--name", "synthetic", "--subjects", "3", "--size", "24", "24", "24",
            "--model", "UNET3D_CICEK", "--base_filters", "4", "--device", "cpu", "--batch", "2", "--spacing", "1,1,2", "--out", path);
        Assert.True(code == 0, stderr);
        Assert.Contains("fingerprint of 'synthetic': 3 subject(s)", stdout);
        Assert.Contains("24×24×24 voxels of 1×1×1 mm, RAS", stdout);
        Assert.Contains("spacing: 1 × 1 × 2 mm (overridden) — set by you (the planner chose 1×1×1 mm)", stdout);
        Assert.Contains("patch: ", stdout);
        Assert.Contains("measured forward+backward", stdout);
        Assert.Contains($"plan written to {path}", stdout);
        var plan = DatasetPlan.Load(path);
        Assert.Equal([1.0, 1, 2], plan.TargetSpacing.Value);
        Assert.Equal(2, plan.BatchSize.Value);
        Assert.Equal("UNET3D_CICEK", plan.Model);
    }

    [Fact]
    public void Plan_Json_HoldsFingerprintAndPlan()
    {
        var (code, stdout, stderr) = Run("dataset", "plan", "--name", "synthetic", "--subjects", "2", "--size", "20", "20", "20",
            "--model", "UNET3D_CICEK", "--base_filters", "4", "--device", "cpu", "--patch", "16", "--batch", "2", "--json");
        Assert.True(code == 0, stderr);
        var root = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(2, root.GetProperty("fingerprint").GetProperty("subjects").GetArrayLength());
        Assert.Equal([16, 16, 16], root.GetProperty("plan").GetProperty("patchSize").GetProperty("value").EnumerateArray().Select(v => v.GetInt32()));
        Assert.Equal(JsonValueKind.Null, root.GetProperty("savedTo").ValueKind); // a generated dataset has no folder
    }

    [Theory]
    [InlineData("--spacing", "1,0,1", "spacing '1,0,1' must be 3 positive numbers")]
    [InlineData("--intensity", "T1=xray", "intensity 'T1=xray' must be MODALITY=ct or MODALITY=mr")]
    [InlineData("--interpolation", "quintic", "image interpolation 'quintic' must be cubic or linear")]
    public void Plan_BadOverride_ExitsWithTheProblem(string option, string value, string message)
    {
        var (code, _, stderr) = Run("dataset", "plan", "--name", "synthetic", option, value);
        Assert.NotEqual(0, code);
        Assert.Contains(message, stderr);
    }

    [Fact]
    public void Train_PlanFileMissing_SaysWhatItExpects()
    {
        using var dir = TestPaths.NewTempFolder();
        var (code, _, stderr) = Run("train", "--plan", dir.File("nope.json"), "--output", dir.File("run"), "--record", "False");
        Assert.NotEqual(0, code);
        Assert.Contains("is neither 'auto' nor an existing plan file", stderr);
    }
}
