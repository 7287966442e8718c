using MedZoo.Engine.Checkpoints;
using System.Text.Json;
using MedZoo.Engine.IO;
using MedZoo.Tests.TestSupport;
using MedZoo.Web.Cli;
using Spectre.Console.Testing;

namespace MedZoo.Tests.Web.Cli;

/// <summary>
/// The train and infer verbs end to end on a tiny synthetic dataset. One small training run is shared
/// by the infer tests (class fixture) so the suite trains once.
/// </summary>
public class TrainInferVerbTests(TrainInferVerbTests.TrainedRun run) : IClassFixture<TrainInferVerbTests.TrainedRun>
{
    public sealed class TrainedRun : IDisposable
    {
        public TrainedRun()
        {
            Folder = TestPaths.NewTempFolder();
            Output = Folder.File("run");
            var err = new StringWriter();
            Out = new StringWriter();
            ExitCode = CliApp.Run([.. Arguments(Output, epochs: 2)], Out, err);
            Error = err.ToString();
        }

        /// <summary>The tiny run's command line.</summary>
        public static string[] Arguments(string output, int epochs) =>
        [
            "train", "--dataset_name", "synthetic", "--synthetic_subjects", "3", "--synthetic_size", "24", "--split", "0.67",
            "--model", "UNET3D_CICEK", "--base_filters", "8", "--depth", "2", "--dim", "16", "--batchSz", "2", "--nEpochs", epochs.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--samples_train", "4", "--augmentation", "False", "--opt", "adam", "--lr", "0.01", "--seed", "5", "--workers", "1", "--output", output, "--run_id", "tiny",
        ];

        public TempFolder Folder { get; }
        public string Output { get; }
        public int ExitCode { get; }
        public StringWriter Out { get; }
        public string Error { get; }

        public void Dispose() => Folder.Dispose();
    }

    [Fact]
    public void Train_TinySynthetic_WritesSummaryWithDocumentedFields()
    {
        Assert.True(run.ExitCode == 0, run.Error);
        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.Output, "summary.json"))).RootElement;
        Assert.Equal(JsonValueKind.Number, summary.GetProperty("bestEpoch").ValueKind);
        var best = summary.GetProperty("bestMeanDice").GetDouble();
        Assert.InRange(best, 0, 1);
        var perClass = summary.GetProperty("perClassDice").EnumerateObject().ToList();
        Assert.True(perClass.Count >= 2);
        var checkpoint = summary.GetProperty("checkpoint").GetString()!;
        Assert.True(File.Exists(checkpoint), checkpoint);
        Assert.Equal(Path.Combine(run.Output, "best.ckpt"), checkpoint);
        Assert.True(File.Exists(Path.Combine(run.Output, "last.ckpt")));
        Assert.Equal(2, summary.GetProperty("history").GetArrayLength());
        Assert.Contains("epoch 2/2", run.Error);
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(run.Output, "runs", "tiny"), "events.out.tfevents.*"));
    }

    [Fact]
    public void Train_ResumeLast_ContinuesTheRunAndKeepsTheBestCheckpoint()
    {
        Assert.True(run.ExitCode == 0, run.Error);
        using var dir = TestPaths.NewTempFolder();
        var output = dir.File("resumed");
        Directory.CreateDirectory(output);
        foreach (var f in new[] { "last.ckpt", "best.ckpt" }) File.Copy(Path.Combine(run.Output, f), Path.Combine(output, f));
        var err = new StringWriter();
        var code = CliApp.Run([.. TrainedRun.Arguments(output, epochs: 3), "--resume", "last"], new StringWriter(), err);
        Assert.True(code == 0, err.ToString());
        Assert.Contains("resuming at epoch 3", err.ToString());
        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json"))).RootElement;
        Assert.Equal(3, summary.GetProperty("epochsCompleted").GetInt32());
        Assert.Equal(3, summary.GetProperty("history").GetArrayLength());
        Assert.True(File.Exists(summary.GetProperty("checkpoint").GetString()));
    }

    [Fact]
    public void Infer_NiftiWithObliqueAffine_OutputKeepsGeometry()
    {
        Assert.True(run.ExitCode == 0, run.Error);
        using var dir = TestPaths.NewTempFolder();
        double[] affine = [0, -1.2, 0.1, 40, 0.9, 0, 0, -20, 0, 0.05, 2.5, 7, 0, 0, 0, 1];
        var geometry = new VolumeGeometry(affine);
        var checkpoint = Path.Combine(run.Output, "best.ckpt");
        var header = MedZoo.Engine.Checkpoints.Checkpoint.Read(checkpoint).Header;
        var inputs = new List<string>();
        for (var m = 0; m < header.Modalities.Count; m++)
        {
            var random = new Random(m);
            var data = new float[20 * 18 * 13];
            for (var i = 0; i < data.Length; i++) data[i] = (float)(100 + 50 * random.NextDouble());
            var path = dir.File($"in{m}.nii.gz");
            VolumeIO.Write(Volume.FromArray<float>(data, [20, 18, 13], geometry), path);
            inputs.Add(path);
        }
        var output = dir.File("seg.nii.gz");
        var args = new List<string> { "infer", "--checkpoint", checkpoint, "--output", output, "--probabilities", "--largest-component", "--input" };
        args.AddRange(inputs);
        var err = new StringWriter();
        Assert.True(CliApp.Run(args.ToArray(), new StringWriter(), err) == 0, err.ToString());
        var seg = VolumeIO.Read(output);
        Assert.Equal([20, 18, 13], seg.Shape);
        Assert.True(seg.Geometry.ApproximatelyEquals(geometry, 1e-5), seg.Geometry.ToString());
        Assert.All(seg.ToFloatArray(), v => Assert.InRange(v, 0, header.ClassNames.Count - 1));
        var probabilities = VolumeIO.Read(dir.File("seg_probabilities.nii.gz"));
        Assert.Equal([20, 18, 13, header.ClassNames.Count], probabilities.Shape);
    }

    [Fact]
    public void Infer_Terminal_ShowsABarOverTheWindowsAndRedirectedPrintsPercentLines()
    {
        Assert.True(run.ExitCode == 0, run.Error);
        using var dir = TestPaths.NewTempFolder();
        var checkpoint = Path.Combine(run.Output, "best.ckpt");
        var header = MedZoo.Engine.Checkpoints.Checkpoint.Read(checkpoint).Header;
        var inputs = Enumerable.Range(0, header.Modalities.Count).Select(m =>
        {
            var path = dir.File($"in{m}.nii");
            VolumeIO.Write(Volume.FromArray<float>(Enumerable.Range(0, 20 * 20 * 20).Select(i => (float)(i % 7)).ToArray(), [20, 20, 20]), path);
            return path;
        }).ToArray();

        using var console = new TestConsole().Interactive().SupportsAnsi(true).Width(120);
        var err = new StringWriter();
        Assert.True(CliApp.Run(["infer", "--checkpoint", checkpoint, "--output", dir.File("a.nii.gz"), "--input", .. inputs], new StringWriter(), err, terminal: console) == 0, err.ToString());
        Assert.Contains("predicting 8/8 windows", console.Output);
        Assert.Contains("100%", console.Output);
        Assert.DoesNotContain("predicting: ", err.ToString());

        err = new StringWriter();
        Assert.True(CliApp.Run(["infer", "--checkpoint", checkpoint, "--output", dir.File("b.nii.gz"), "--input", .. inputs], new StringWriter(), err) == 0, err.ToString());
        Assert.Contains("predicting: 50%", err.ToString()); // 4 of 8 windows
        Assert.Contains("predicting: 100%", err.ToString());
        Assert.DoesNotContain('\r', err.ToString());
    }

    [Fact]
    public void Infer_Tta_WritesClassProbabilitiesSummingToOneWhoseArgmaxIsTheLabel()
    {
        Assert.True(run.ExitCode == 0, run.Error);
        using var dir = TestPaths.NewTempFolder();
        var checkpoint = Path.Combine(run.Output, "best.ckpt");
        var header = MedZoo.Engine.Checkpoints.Checkpoint.Read(checkpoint).Header;
        var inputs = new List<string>();
        for (var m = 0; m < header.Modalities.Count; m++)
        {
            var random = new Random(10 + m);
            var data = new float[17 * 20 * 15];
            for (var i = 0; i < data.Length; i++) data[i] = (float)(100 + 50 * random.NextDouble());
            var path = dir.File($"in{m}.nii.gz");
            VolumeIO.Write(Volume.FromArray<float>(data, [17, 20, 15]), path);
            inputs.Add(path);
        }
        var output = dir.File("seg.nii.gz");
        var err = new StringWriter();
        Assert.True(CliApp.Run(["infer", "--checkpoint", checkpoint, "--output", output, "--probabilities", "--tta", "--input", .. inputs], new StringWriter(), err) == 0, err.ToString());
        var labels = VolumeIO.Read(output).ToFloatArray();
        var probabilities = VolumeIO.Read(dir.File("seg_probabilities.nii.gz")).ToFloatArray();
        var classes = header.ClassNames.Count;
        var n = labels.Length;
        Assert.Equal(n * classes, probabilities.Length);
        for (var i = 0; i < n; i++)
        {
            var p = Enumerable.Range(0, classes).Select(c => probabilities[c * n + i]).ToArray();
            Assert.InRange(p.Sum(), 1 - 1e-4, 1 + 1e-4);
            Assert.Equal(Array.IndexOf(p, p.Max()), (int)labels[i]);
        }
    }

    [Fact]
    public void Infer_WrongNumberOfModalities_ExitsTwoNamingTheModalities()
    {
        Assert.True(run.ExitCode == 0, run.Error);
        using var dir = TestPaths.NewTempFolder();
        var header = MedZoo.Engine.Checkpoints.Checkpoint.Read(Path.Combine(run.Output, "best.ckpt")).Header;
        var path = dir.File("one.nii");
        VolumeIO.Write(Volume.FromArray<float>(new float[8 * 8 * 8], [8, 8, 8]), path);
        var inputs = Enumerable.Repeat(path, header.Modalities.Count + 1).ToArray();
        var err = new StringWriter();
        var code = CliApp.Run(["infer", "--checkpoint", Path.Combine(run.Output, "best.ckpt"), "--output", dir.File("o.nii.gz"), "--input", .. inputs], new StringWriter(), err);
        Assert.Equal(2, code);
        Assert.Contains($"expects {header.Modalities.Count}", err.ToString());
        Assert.Contains("usage: medzoo infer", err.ToString());
    }

    [Theory]
    [InlineData(new[] { "train", "--nEpochs", "0" }, "Epochs")]
    [InlineData(new[] { "train", "--opt", "adagrad" }, "adagrad")]
    [InlineData(new[] { "train", "--dim", "16", "16" }, "--dim takes 1 or 3 values")]
    [InlineData(new[] { "train", "--batchSz", "two" }, "'two' is not an integer")]
    [InlineData(new[] { "train", "--loss", "hinge" }, "hinge")]
    [InlineData(new[] { "train", "--dataset_name", "nope" }, "nope")]
    [InlineData(new[] { "train", "--model", "UNET3D", "--dim", "16" }, "Sampling.PatchSize: UNET3D")]
    [InlineData(new[] { "train", "--model", "VNET", "--base_filters", "8" }, "VNET has no base-filters option")]
    [InlineData(new[] { "infer", "--input", "a.nii", "--output", "b.nii.gz" }, "--checkpoint is required")]
    [InlineData(new[] { "infer", "--checkpoint", "/nonexistent/x.ckpt", "--input", "a.nii", "--output", "b.nii.gz" }, "does not exist")]
    [InlineData(new[] { "infer", "--checkpoint", "x.ckpt", "--input", "a.nii", "--output", "b.txt" }, "must end in")]
    public void Run_BadArguments_ExitTwoWithMessageAndUsage(string[] args, string expected)
    {
        var err = new StringWriter();
        var code = CliApp.Run(args, new StringWriter(), err);
        Assert.Equal(2, code);
        Assert.Contains(expected, err.ToString());
        Assert.Contains($"usage: medzoo {args[0]}", err.ToString());
        Assert.DoesNotContain("   at ", err.ToString());
    }
}
