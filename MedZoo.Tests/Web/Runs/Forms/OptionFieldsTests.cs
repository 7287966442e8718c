using MedZoo.Web.Runs.Forms;

namespace MedZoo.Tests.Web.Runs.Forms;

public sealed class OptionFieldsTests
{
    public enum Optimizer { Sgd, Adam }

    public sealed class Inner
    {
        /// <summary>Patch size in voxels.</summary>
        public int[] PatchSize { get; set; } = [32, 32, 32];
        public double? Threshold { get; set; }
    }

    public sealed class Sample
    {
        public string Model { get; set; } = "UNET3D";
        public int Epochs { get; set; } = 3;
        public double LearningRate { get; set; } = 1e-3;
        public bool Augment { get; set; }
        public Optimizer Opt { get; set; } = Optimizer.Adam;
        public string? LogDirectory { get; set; }
        public Inner Sampling { get; set; } = new();
        public Dictionary<string, int> NotAField { get; set; } = [];
    }

    [Fact]
    public void Describe_NestedOptions_ListsEveryEditableOptionByPath()
    {
        var fields = OptionFields.Describe(typeof(Sample), p => p == "Model" ? ["UNET3D", "VNET"] : null);
        Assert.Equal(["Model", "Epochs", "LearningRate", "Augment", "Opt", "LogDirectory", "Sampling.PatchSize", "Sampling.Threshold"], fields.Select(f => f.Path));
        Assert.Equal(OptionKind.Choice, fields[0].Kind);
        Assert.Equal(["Sgd", "Adam"], fields.Single(f => f.Path == "Opt").Choices);
        Assert.Equal("Sampling", fields.Single(f => f.Path == "Sampling.PatchSize").Group);
        Assert.Equal("Learning rate", fields.Single(f => f.Path == "LearningRate").Label);
        Assert.True(fields.Single(f => f.Path == "LogDirectory").IsNullable);
        Assert.False(fields.Single(f => f.Path == "Model").IsNullable);
    }

    [Fact]
    public void TryParse_ValidText_SetsTypedValues()
    {
        var fields = OptionFields.Describe(typeof(Sample)).ToDictionary(f => f.Path);
        var s = new Sample();
        foreach (var (path, text) in new[] { ("Epochs", "12"), ("LearningRate", "0.01"), ("Opt", "sgd"), ("Sampling.PatchSize", "16, 24 32"), ("Sampling.Threshold", ""), ("Augment", "true") })
        {
            Assert.Null(fields[path].TryParse(text, out var v));
            fields[path].Set(s, v);
        }
        Assert.Equal(12, s.Epochs);
        Assert.Equal(0.01, s.LearningRate);
        Assert.Equal(Optimizer.Sgd, s.Opt);
        Assert.Equal([16, 24, 32], s.Sampling.PatchSize);
        Assert.Null(s.Sampling.Threshold);
        Assert.True(s.Augment);
        Assert.Equal("16 24 32", fields["Sampling.PatchSize"].Format(s));
    }

    [Theory]
    [InlineData("Epochs", "three", "not a whole number")]
    [InlineData("Epochs", "", "is required")]
    [InlineData("LearningRate", "1e-3x", "not a number")]
    [InlineData("Sampling.PatchSize", "32 x 32", "not a list of numbers")]
    public void TryParse_BadText_ExplainsWithTheOptionsName(string path, string text, string expected)
    {
        var field = OptionFields.Describe(typeof(Sample)).Single(f => f.Path == path);
        var error = field.TryParse(text, out _);
        Assert.NotNull(error);
        Assert.Contains(expected, error);
        Assert.StartsWith(field.Label, error);
    }
}
