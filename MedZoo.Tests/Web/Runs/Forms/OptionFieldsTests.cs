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
    [InlineData("Epochs", "three", "'three' is not a whole number: enter digits only")]
    [InlineData("Epochs", "", "Enter a value")]
    [InlineData("LearningRate", "1e-3x", "'1e-3x' is not a number: enter e.g. 0.5 or 1e-3")]
    [InlineData("Sampling.PatchSize", "32 x 32", "'32 x 32' is not a list of numbers: separate them with spaces")]
    public void TryParse_BadText_SaysWhatToEnterAsASentenceUnderTheField(string path, string text, string expected)
    {
        var field = OptionFields.Describe(typeof(Sample)).Single(f => f.Path == path);
        var error = field.TryParse(text, out _);
        Assert.NotNull(error);
        Assert.StartsWith(expected, error);
        Assert.EndsWith(".", error);
    }

    [Fact]
    public void TryParse_ParsableTypeRefusesText_ShowsItsReasonWithoutDotNetText()
    {
        var field = OptionFields.Describe(typeof(WithSpan)).Single();
        var error = field.TryParse("1:2", out _);
        Assert.Equal("Use hours, minutes and seconds as h:mm:ss.", error);
    }

    public sealed class WithSpan
    {
        public Span3 Span { get; set; }
    }

    /// <summary>A type that parses itself and refuses bad text with an <see cref="ArgumentException"/> naming its parameter, as the engine's do.</summary>
    public readonly record struct Span3(int H, int M, int S) : IParsable<Span3>
    {
        public static Span3 Parse(string s, IFormatProvider? provider)
        {
            var parts = s.Split(':');
            if (parts.Length != 3) throw new ArgumentException("use hours, minutes and seconds as h:mm:ss", nameof(s));
            return new Span3(int.Parse(parts[0], provider), int.Parse(parts[1], provider), int.Parse(parts[2], provider));
        }

        public static bool TryParse(string? s, IFormatProvider? provider, out Span3 result)
        {
            result = default;
            return false;
        }
    }

    [Fact]
    public void Describe_NestedGenericName_IsLabelledByItsOptions()
    {
        var fields = OptionFields.Describe(typeof(MedZoo.Engine.Training.TrainerOptions)).ToDictionary(f => f.Path);
        Assert.Equal("Dataset", fields["Dataset.Name"].Label);
        Assert.Equal("Scheduler", fields["Scheduler.Kind"].Label);
        Assert.Equal("Patch size", fields["Sampling.PatchSize"].Label);
    }
}
