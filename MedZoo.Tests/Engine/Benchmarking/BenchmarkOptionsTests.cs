using MedZoo.Engine.Benchmarking;
using MedZoo.Engine.Networks;

namespace MedZoo.Tests.Engine.Benchmarking;

public class BenchmarkOptionsTests
{
    [Fact]
    public void Validate_Defaults_Passes() => new BenchmarkOptions().Validate();

    public static TheoryData<Action<BenchmarkOptions>, string> BadOptions => new()
    {
        { o => o.Parts = BenchmarkParts.None, nameof(BenchmarkOptions.Parts) },
        { o => o.Models = [], nameof(BenchmarkOptions.Models) },
        { o => o.Models = ["NOPE"], nameof(BenchmarkOptions.Models) },
        { o => o.PatchSizes = [0], nameof(BenchmarkOptions.PatchSizes) },
        { o => o.PatchSizes = [20], nameof(BenchmarkOptions.PatchSizes) },
        { o => o.BatchSize = 0, nameof(BenchmarkOptions.BatchSize) },
        { o => o.Classes = 1, nameof(BenchmarkOptions.Classes) },
        { o => o.Warmup = -1, nameof(BenchmarkOptions.Warmup) },
        { o => o.Repeats = 0, nameof(BenchmarkOptions.Repeats) },
        { o => o.Overlap = 1, nameof(BenchmarkOptions.Overlap) },
        { o => o.Overlap = double.NaN, nameof(BenchmarkOptions.Overlap) },
        { o => o.VolumeSize = [96, 96], nameof(BenchmarkOptions.VolumeSize) },
        { o => o.VolumeSize = [48, 96, 96], nameof(BenchmarkOptions.VolumeSize) },
        { o => o.SyntheticSubjects = 1, nameof(BenchmarkOptions.SyntheticSubjects) },
        { o => o.Steps = 0, nameof(BenchmarkOptions.Steps) },
        { o => o.TrainerEpochs = 0, nameof(BenchmarkOptions.TrainerEpochs) },
        { o => { o.Steps = 10; o.TrainerEpochs = 3; }, nameof(BenchmarkOptions.TrainerEpochs) },
        { o => o.Threads = -1, nameof(BenchmarkOptions.Threads) },
        { o => o.LearningRate = 0, nameof(BenchmarkOptions.LearningRate) },
        { o => o.ModelOptions = new ModelOptions { BaseFilters = 8 }, nameof(BenchmarkOptions.ModelOptions) },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Validate_BadField_ThrowsNamingIt(Action<BenchmarkOptions> change, string field)
    {
        var options = new BenchmarkOptions();
        change(options);

        var e = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal(field, e.ParamName);
        Assert.StartsWith(field + ":", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Clone_ChangingTheCopy_LeavesTheOriginal()
    {
        var original = new BenchmarkOptions();
        var copy = original.Clone();

        copy.Models[0] = "VNET";
        copy.PatchSizes[0] = 64;

        Assert.Equal("UNET3D", original.Models[0]);
        Assert.Equal(32, original.PatchSizes[0]);
    }
}
