using MedZoo.Engine.Checkpoints;
using MedZoo.Reliability.Fuzzing;
using MedZoo.Tests.TestSupport;
using Xunit.Abstractions;

namespace MedZoo.Tests.Reliability;

/// <summary>
/// The short version of <c>scripts/reliability.sh</c>'s fuzzing (which runs 10,000 inputs per kind): 300 mutated
/// inputs per reader, fixed seed, through the real readers. No crash, no hang, no input allocating more than
/// 256 MiB, and every refusal with a message that names the problem.
/// </summary>
public sealed class FuzzTests(ITestOutputHelper output)
{
    private const int Count = 300;
    private const int Seed = 13;

    private FuzzReport Fuzz(string kind)
    {
        using var folder = TestPaths.NewTempFolder();
        using var target = FuzzTarget.Create(kind, folder.Path);
        var options = new FuzzOptions { Count = Count, Seed = Seed, Timeout = TimeSpan.FromSeconds(20), MaxAllocatedBytesPerInput = 256L * 1024 * 1024 };
        var report = FuzzRunner.Run(target, options);
        output.WriteLine(string.Join(", ", report.Outcomes.Select(o => $"{o.Key} {o.Value}")) + $"; max allocated {report.MaxAllocatedBytes / 1024} KiB; {report.Elapsed.TotalSeconds:0.0} s");
        foreach (var line in report.Crashes.Concat(report.Unclear)) output.WriteLine(line);
        return report;
    }

    private static void AssertSound(FuzzReport r, bool clearMessages)
    {
        Assert.True(r.Of(FuzzOutcome.Crashed) == 0, $"{r.Kind}: {r.Of(FuzzOutcome.Crashed)} of {r.Count} inputs crashed the reader:\n{string.Join('\n', r.Crashes)}");
        Assert.Equal(0, r.Of(FuzzOutcome.Hung));
        Assert.Equal(0, r.OverMemoryBound);
        if (clearMessages)
            Assert.True(r.Of(FuzzOutcome.RefusedUnclear) == 0, $"{r.Kind}: refusals without a clear message:\n{string.Join('\n', r.Unclear)}");
        // The mutations reach both sides of the reader: some inputs stay readable, most are refused.
        Assert.InRange(r.Of(FuzzOutcome.Accepted), 1, r.Count - 1);
        Assert.InRange(r.Of(FuzzOutcome.Refused), r.Count / 4, r.Count);
    }

    [Theory]
    [InlineData("nifti")]
    [InlineData("analyze")]
    [InlineData("metaimage")]
    [InlineData("gzip")]
    [InlineData("upload")]
    public void Fuzz_MutatedVolumesAndUploads_RefusedWithTheFileNamedNeverCrash(string kind) => AssertSound(Fuzz(kind), clearMessages: true);

    /// <remarks>
    /// Checkpoint.Read refuses with InvalidDataException; LoadModel wraps TorchSharp's refusals ("Mismatched
    /// state_dict sizes", EndOfStreamException) with the checkpoint and network they concern.
    /// </remarks>
    [Fact]
    public void Fuzz_MutatedCheckpoints_NeverCrash() => AssertSound(Fuzz("checkpoint"), clearMessages: true);

    [Fact]
    public void Fuzz_MutatedJournals_NeverCrash() => AssertSound(Fuzz("journal"), clearMessages: true);

    [Fact]
    public void Fuzz_MutatedDatasetJson_NeverCrash() => AssertSound(Fuzz("datasetjson"), clearMessages: true);

    [Fact]
    public void Fuzz_SameSeed_SameInputs()
    {
        using var folder = TestPaths.NewTempFolder();
        using var target = FuzzTarget.Create("nifti", folder.Path);
        var a = new Mutator(5);
        var b = new Mutator(5);
        for (var i = 0; i < 50; i++)
            Assert.Equal(target.Mutate(target.Seeds[0], a).Files[0].Value, target.Mutate(target.Seeds[0], b).Files[0].Value);
    }
}
