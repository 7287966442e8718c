using System.Text.Json;
using MedZoo.Engine.Networks.Blocks;
using MedZoo.Web.Cli;
using TorchSharp;

namespace MedZoo.Tests.Web.Cli;

/// <summary>
/// The bench verb on tiny sizes: it runs every measurement and its JSON carries the documented
/// fields (the ones benchmarks/run.py reads). Nothing here checks a speed: timings on a shared
/// machine are not test material, only their presence and sanity (positive, finite).
/// </summary>
public class BenchVerbTests
{
    // A 2-level U-Net with 4 base filters on 16³ patches: every part runs in seconds.
    private static readonly string[] Tiny =
    [
        "--models", "UNET3D_CICEK", "--base_filters", "4", "--depth", "2", "--dim", "16", "--warmup", "1", "--repeats", "2",
        "--infer_repeats", "1", "--volume", "24", "--io_size", "20", "18", "16", "--io_repeats", "1", "--data_batches", "2",
        "--synthetic_subjects", "3", "--synthetic_size", "24", "--workers", "1",
    ];

    [Fact]
    public void Run_JsonEveryPart_ReportsTheDocumentedFields()
    {
        var output = new StringWriter();
        var error = new StringWriter();

        var code = CliApp.Run(["bench", "--json", "--only", "train,infer,data,io", "--memory_steps", "4", .. Tiny], output, error);

        Assert.True(code == 0, error.ToString());
        using var json = JsonDocument.Parse(output.ToString());
        var root = json.RootElement;
        Assert.Equal("medzoo", root.GetProperty("tool").GetString());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("torch").GetString()));
        Assert.True(root.GetProperty("threads").GetProperty("intraOp").GetInt32() >= 1);
        Assert.True(root.GetProperty("threads").GetProperty("interOp").GetInt32() >= 1);
        Assert.True(root.GetProperty("logicalCores").GetInt32() >= 1);

        var train = root.GetProperty("train").EnumerateArray().Single();
        Assert.Equal("UNET3D_CICEK", train.GetProperty("model").GetString());
        Assert.Equal([16, 16, 16], train.GetProperty("patch").EnumerateArray().Select(v => v.GetInt32()));
        Assert.Equal(1, train.GetProperty("batch").GetInt32());
        Assert.True(train.GetProperty("parameters").GetInt64() > 0);
        AssertTimings(train.GetProperty("seconds"), 2);
        foreach (var phase in new[] { "forwardSeconds", "backwardSeconds", "optimizerSeconds" })
            Assert.True(train.GetProperty(phase).GetDouble() > 0, phase);

        var infer = root.GetProperty("infer").EnumerateArray().Single();
        Assert.Equal([24, 24, 24], infer.GetProperty("volume").EnumerateArray().Select(v => v.GetInt32()));
        Assert.Equal(8, infer.GetProperty("windows").GetInt32());   // starts 0 and 8 on each axis at overlap 0.5
        Assert.Equal("gaussian", infer.GetProperty("blend").GetString());
        AssertTimings(infer.GetProperty("seconds"), 1);

        var data = root.GetProperty("data");
        Assert.True(data.GetProperty("augmented").GetBoolean());
        Assert.Equal(4, data.GetProperty("patches").GetInt64());
        Assert.True(data.GetProperty("patchesPerSecond").GetDouble() > 0);

        var io = root.GetProperty("io").EnumerateArray().ToArray();
        Assert.Equal(["nii", "nii.gz"], io.Select(r => r.GetProperty("format").GetString()));
        foreach (var r in io)
        {
            Assert.Equal(20 * 18 * 16 * 2 / 1e6, r.GetProperty("megabytes").GetDouble(), 9);
            Assert.True(r.GetProperty("megabytesPerSecond").GetDouble() > 0);
            Assert.False(File.Exists(r.GetProperty("file").GetString()), "the temporary volumes are removed");
        }

        var trainer = root.GetProperty("trainer");
        Assert.Equal(4, trainer.GetProperty("steps").GetInt32());
        var resident = trainer.GetProperty("residentMegabytes").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(4, resident.Length);
        Assert.Equal(resident[0], trainer.GetProperty("residentStartMegabytes").GetDouble(), 1);
        Assert.Equal(resident[^1], trainer.GetProperty("residentEndMegabytes").GetDouble(), 1);
        Assert.True(double.IsFinite(trainer.GetProperty("residentDriftPercent").GetDouble()));
        Assert.True(trainer.GetProperty("residentGrowthPercent").GetDouble() >= 0);
        Assert.InRange(trainer.GetProperty("dataWaitFraction").GetDouble(), 0, 1);
        Assert.Equal("Completed", trainer.GetProperty("outcome").GetString());

        var memory = root.GetProperty("memory");
        Assert.True(memory.GetProperty("peakResidentMegabytes").GetDouble() >= memory.GetProperty("residentMegabytes").GetDouble());
        Assert.True(memory.GetProperty("managedHeapMegabytes").GetDouble() > 0);
    }

    [Fact]
    public void Run_Threads_AppliesThemForTheRunAndRestoresTorchsSetting()
    {
        var before = torch.get_num_threads();
        var output = new StringWriter();
        var error = new StringWriter();

        var code = CliApp.Run(["bench", "--json", "--only", "io", "--threads", "1", "--io_size", "8", "--io_repeats", "1"], output, error);

        Assert.True(code == 0, error.ToString());
        using var json = JsonDocument.Parse(output.ToString());
        Assert.Equal(1, json.RootElement.GetProperty("threads").GetProperty("intraOp").GetInt32());
        Assert.Equal(before, torch.get_num_threads());
    }

    [Fact]
    public void Run_Text_PrintsOneLinePerMeasurement()
    {
        var output = new StringWriter();
        var error = new StringWriter();

        var code = CliApp.Run(["bench", "--only", "io,train", .. Tiny], output, error);

        Assert.True(code == 0, error.ToString());
        var text = output.ToString();
        Assert.Contains("torch threads:", text);
        Assert.Contains("UNET3D_CICEK", text);
        Assert.Contains("sample.nii.gz", text);
        Assert.Contains("MB/s", text);
        Assert.Contains("peak resident", text);
        Assert.Contains("train UNET3D_CICEK 16³", error.ToString());   // progress goes to stderr
        if (CpuConvolution.Route is CpuConvolutionRoute.ChannelsLast or CpuConvolutionRoute.Batched
            && Environment.GetEnvironmentVariable(CpuConvolution.Variable) is null)
        {
            // Checks, choices and cache hits of the convolution routes (issue 19.1, 19.3).
            Assert.Matches(@"convolution routes: \d+ shapes \(.*\); \d+ checked and timed in this process in [\d.]+ s .*, \d+ from the cache", text);
            Assert.Contains("route cache: ", text);
            Assert.Matches(@"\[(checked|cache|process)\] (transposed )?convolution .* weight .*: runs ", text);
        }
    }

    [Fact]
    public void Run_TrainerOverEpochsWithoutValidation_ReportsPerStepWaitAndTheMemorySlopeFromEpochTwo()
    {
        var output = new StringWriter();
        var error = new StringWriter();

        var code = CliApp.Run(["bench", "--json", "--only", "infer,trainer", "--steps", "6", "--trainer_epochs", "2", "--no_validation",
            "--infer_warmup_window", .. Tiny], output, error);

        Assert.True(code == 0, error.ToString());
        using var json = JsonDocument.Parse(output.ToString());
        var infer = json.RootElement.GetProperty("infer").EnumerateArray().Single();
        Assert.True(infer.GetProperty("warmupOnWindow").GetBoolean());
        AssertTimings(infer.GetProperty("seconds"), 1);
        var trainer = json.RootElement.GetProperty("trainer");
        Assert.Equal(6, trainer.GetProperty("steps").GetInt32());
        Assert.Equal(2, trainer.GetProperty("epochs").GetInt32());
        Assert.False(trainer.GetProperty("validated").GetBoolean());
        var steps = trainer.GetProperty("stepSeconds").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var waits = trainer.GetProperty("dataWaitSeconds").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(6, steps.Length);
        Assert.Equal(6, waits.Length);
        Assert.All(waits.Zip(steps), p => Assert.InRange(p.First, 0, p.Second + 1e-4));
        var wait = trainer.GetProperty("dataWaitPercent");
        Assert.Equal(6 - trainer.GetProperty("settleSteps").GetInt32(), wait.GetProperty("steps").GetInt32());
        Assert.InRange(wait.GetProperty("median").GetDouble(), 0, wait.GetProperty("p95").GetDouble());
        Assert.InRange(wait.GetProperty("p95").GetDouble(), 0, wait.GetProperty("max").GetDouble());
        Assert.InRange(wait.GetProperty("max").GetDouble(), 0, 100.5);
        Assert.Equal(4, trainer.GetProperty("residentSlopeFromStep").GetInt32());   // the first step of epoch 2
        Assert.True(double.IsFinite(trainer.GetProperty("residentSlopeMegabytesPer100Steps").GetDouble()));
        Assert.Equal("Completed", trainer.GetProperty("outcome").GetString());
    }

    [Theory]
    [InlineData("--steps 7 --trainer_epochs", "2", "option --trainer_epochs: 7 steps do not divide into 2 epochs")]
    [InlineData("--trainer_epochs", "0", "option --trainer_epochs: must be at least 1")]
    [InlineData("--only", "speed", "'speed' is not a measurement")]
    [InlineData("--models", "UNET4D", "'UNET4D' is not a model")]
    [InlineData("--dim", "20", "option --dim")]
    [InlineData("--overlap", "1", "option --overlap: must be in [0, 1)")]
    [InlineData("--repeats", "0", "option --repeats: must be at least 1")]
    [InlineData("--threads", "-1", "option --threads")]
    [InlineData("--io_file", "/nonexistent/volume.nii.gz", "'/nonexistent/volume.nii.gz' does not exist")]
    [InlineData("--volume", "16", "option --volume")]
    [InlineData("--io_size", "8 8", "option --io_size takes 1 or 3 values")]
    [InlineData("--base_filters", "4", "VNET has no base-filters option")]
    [InlineData("--memory_steps", "0", "option --memory_steps: must be at least 1")]
    [InlineData("--memory_steps", "many", "option --memory_steps: 'many' is not an integer")]
    [InlineData("--memory_steps 5 --steps", "6", "options --steps and --memory_steps disagree")]
    [InlineData("--batchSz", "two", "option --batchSz: 'two' is not an integer")]
    [InlineData("--frobnicate", "1", "unknown option '--frobnicate'")]
    public void Run_BadArgument_ExitsTwoWithTheReasonAndUsage(string option, string value, string expected)
    {
        var error = new StringWriter();

        var code = CliApp.Run(["bench", .. option.Split(' '), .. value.Split(' ')], new StringWriter(), error);

        Assert.Equal(2, code);
        Assert.Contains(expected, error.ToString());
        Assert.Contains("usage: medzoo bench", error.ToString());
    }

    private static void AssertTimings(JsonElement seconds, int count)
    {
        var all = seconds.GetProperty("all").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(count, all.Length);
        Assert.All(all, v => Assert.True(v > 0 && double.IsFinite(v)));
        Assert.InRange(seconds.GetProperty("median").GetDouble(), all.Min(), all.Max());
        Assert.Equal(all.Min(), seconds.GetProperty("min").GetDouble());
        Assert.Equal(all.Max(), seconds.GetProperty("max").GetDouble());
    }
}
