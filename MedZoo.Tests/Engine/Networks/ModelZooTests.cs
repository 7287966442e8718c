using MedZoo.Engine.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Networks;

public class ModelZooTests
{
    private static readonly string[] MedicalZooNames =
    [
        "UNET3D", "DENSENET1", "DENSENET2", "DENSENET3", "HYPERDENSENET", "SKIPDENSENET3D", "DENSEVOXELNET",
        "VNET", "VNET2", "RESNET3DVAE", "RESNETMED3D", "HIGHRESNET",
    ];

    [Fact]
    public void Names_MedicalZooModelsAndCicek_AllPresentOnce()
    {
        Assert.Equal(MedicalZooNames.Append("UNET3D_CICEK").Order(), ModelZoo.Names.Order());
        Assert.Equal(ModelZoo.Names.Count, ModelZoo.Names.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    [Theory]
    [InlineData("unet3d", "UNET3D")]
    [InlineData("VNet2", "VNET2")]
    [InlineData(" resnet3dvae ", "RESNET3DVAE")]
    public void Get_AnyCase_FindsTheModel(string typed, string expected) =>
        Assert.Equal(expected, ModelZoo.Get(typed).Name);

    [Fact]
    public void Get_UnknownName_ListsTheValidNames()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelZoo.Get("UNET4D"));
        Assert.Contains("'UNET4D'", e.Message);
        foreach (var name in ModelZoo.Names) Assert.Contains(name, e.Message);
    }

    [Fact]
    public void Models_Metadata_IsComplete()
    {
        foreach (var m in ModelZoo.Models)
        {
            Assert.False(string.IsNullOrWhiteSpace(m.Description), m.Name);
            Assert.False(string.IsNullOrWhiteSpace(m.Paper.Title), m.Name);
            Assert.False(string.IsNullOrWhiteSpace(m.Paper.Authors), m.Name);
            Assert.InRange(m.Paper.Year, 2015, 2020);
            Assert.StartsWith("https://arxiv.org/abs/", m.Paper.Url);
            Assert.InRange(m.Constraints.Divisor, 1, 64);
            Assert.True(m.Constraints.MinSize >= m.Constraints.Divisor, m.Name);
            Assert.Contains("D, H, W", m.ConstraintsText);
            Assert.Equal(m.SupportedOptions.HasFlag(ModelOptionKinds.BaseFilters), m.DefaultBaseFilters is not null);
        }
    }

    [Theory]
    [InlineData("UNET3D")]
    [InlineData("HIGHRESNET")]
    [InlineData("DENSEVOXELNET")]
    [InlineData("UNET3D_CICEK")]
    public void Create_KnownName_NetworkReportsItsChannelsConstraintsAndParameters(string name)
    {
        NetworkCases.Seed();
        using var net = ModelZoo.Create(name, 3, 5);
        Assert.Equal(3, net.InChannels);
        Assert.Equal(5, net.Classes);
        Assert.Equal(ModelZoo.Get(name).Constraints, net.Constraints);
        Assert.Equal(ModelZoo.CountParameters(net), ModelZoo.CountParameters(name, 3, 5));
    }

    [Theory]
    [InlineData("UNET3D", 0, 4, "inChannels")]
    [InlineData("VNET", -1, 4, "inChannels")]
    [InlineData("HYPERDENSENET", 2, 1, "classes")]
    [InlineData("DENSENET2", 2, 0, "classes")]
    public void Create_InvalidChannels_ThrowsNamingTheParameter(string name, int inChannels, int classes, string parameter)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ModelZoo.Create(name, inChannels, classes));
        Assert.Equal(parameter, e.ParamName);
        Assert.Contains(parameter + " must be >=", e.Message);
    }

    [Theory]
    [InlineData("UNET3D", "BaseFilters=0", "baseFilters must be >= 1")]
    [InlineData("UNET3D_CICEK", "BaseFilters=-2", "baseFilters must be >= 1")]
    [InlineData("UNET3D_CICEK", "Depth=0", "depth must be in [1, 6]")]
    [InlineData("UNET3D_CICEK", "Depth=7", "depth must be in [1, 6]")]
    [InlineData("RESNET3DVAE", "BaseFilters=12", "baseFilters must be a positive multiple of 8")]
    [InlineData("RESNET3DVAE", "InputSize=40x40x40", "divisible by 16")]
    [InlineData("RESNETMED3D", "Depth=11", "depth must be one of 10, 18, 34, 50, 101, 152, 200")]
    [InlineData("DENSENET1", "DropRate=1", "dropRate must be in [0, 1)")]
    [InlineData("SKIPDENSENET3D", "DropRate=-0.1", "dropRate must be in [0, 1)")]
    [InlineData("VNET", "BaseFilters=16", "VNET does not use the option(s) BaseFilters")]
    [InlineData("HIGHRESNET", "Depth=3;DropRate=0.1", "does not use the option(s) Depth, DropRate")]
    [InlineData("UNET3D", "InputSize=32x30x32", "must be divisible by 16 in every dimension (H=30)")]
    [InlineData("VNET2", "InputSize=8x8x8", "must be at least 16 in every dimension (D=8)")]
    [InlineData("DENSENET3", "InputSize=8x8", "InputSize must have 3 values")]
    public void Create_InvalidOptions_ThrowsNamingTheOption(string name, string options, string expected)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => ModelZoo.Create(name, 2, 4, ParseOptions(options)));
        Assert.Contains(expected, e.Message);
    }

    public static TheoryData<string, long[], string> InvalidShapes() => new()
    {
        { "UNET3D", [1, 2, 32, 32], "input must be 5-D (B, C, D, H, W), got (1, 2, 32, 32)" },
        { "UNET3D", [1, 3, 32, 32, 32], "input has 3 channels but the model was built for inChannels=2" },
        { "UNET3D", [1, 2, 32, 32, 40], "must be divisible by 16 in every dimension (W=40)" },
        { "UNET3D", [1, 2, 16, 16, 16], "must be at least 32 in every dimension (D=16)" },
        { "VNET2", [1, 2, 12, 16, 16], "must be divisible by 8" },
        { "DENSEVOXELNET", [1, 2, 8, 10, 8], "must be divisible by 4" },
        { "RESNETMED3D", [2, 2, 8, 8, 8], "must be at least 16" },
        { "HIGHRESNET", [1, 2, 1, 8, 8], "must be at least 2" },
        { "UNET3D_CICEK", [1, 2, 16, 16, 20], "must be divisible by 8" },
        { "DENSENET2", [1, 1, 8, 8, 8], "input has 1 channels but the model was built for inChannels=2" },
    };

    [Theory]
    [MemberData(nameof(InvalidShapes))]
    public void Forward_InvalidInputShape_ThrowsArgumentExceptionNamingTheConstraint(string name, long[] shape, string expected)
    {
        NetworkCases.Seed();
        var options = name == "UNET3D_CICEK" ? new ModelOptions { BaseFilters = 2 } : name == "UNET3D" ? new ModelOptions { BaseFilters = 2 } : null;
        using var net = ModelZoo.Create(name, 2, 3, options);
        using var scope = NewDisposeScope();
        var x = torch.zeros(shape);
        var e = Assert.Throws<ArgumentException>(() => net.call(x));
        Assert.StartsWith(name + ": ", e.Message);
        Assert.Contains(expected, e.Message);
        Assert.Throws<ArgumentException>(() => net.ForwardWithAuxiliary(x));
    }

    [Fact]
    public void ForwardWithAuxiliary_ResNetVaeOtherThanInputSize_ThrowsNamingInputSize()
    {
        NetworkCases.Seed();
        using var net = ModelZoo.Create("RESNET3DVAE", 1, 2, new ModelOptions { BaseFilters = 8, InputSize = [16, 16, 16] });
        using var scope = NewDisposeScope();
        var x = torch.zeros([1, 1, 32, 32, 32]);
        // The segmentation path is fully convolutional; only the VAE's dense layers need the exact size.
        Assert.Equal([1L, 2, 32, 32, 32], net.call(x).shape);
        var e = Assert.Throws<ArgumentException>(() => net.ForwardWithAuxiliary(x));
        Assert.Contains("needs spatial size (16, 16, 16), the inputSize its VAE dense layers were built for, got (32, 32, 32)", e.Message);
    }

    [Fact]
    public void CountParameters_ResNetMed3DDefault_IsCreateModelsDepth18()
    {
        // MedicalZooPytorch's create_model builds RESNETMED3D with depth 18: 36,166,912 parameters
        // for 2 inputs and 4 classes (benchmarks/reference_models.py, PyTorch 1.13).
        Assert.Equal(36_166_912, ModelZoo.CountParameters("RESNETMED3D", 2, 4));
        Assert.Equal(36_166_912, ModelZoo.CountParameters("RESNETMED3D", 2, 4, new ModelOptions { Depth = 18 }));
    }

    [Theory]
    [InlineData(10, 17_362_432)]
    [InlineData(34, 66_476_544)]
    public void CountParameters_ResNetMed3DOtherDepth_StaysSelectable(int depth, long expected) =>
        Assert.Equal(expected, ModelZoo.CountParameters("RESNETMED3D", 2, 4, new ModelOptions { Depth = depth }));

    /// <summary>"BaseFilters=8;Depth=2;DropRate=0.1;InputSize=32x32x16" → options (keeps theory data serializable).</summary>
    private static ModelOptions ParseOptions(string spec)
    {
        var options = new ModelOptions();
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        foreach (var part in spec.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var (key, value) = (part.Split('=')[0], part.Split('=')[1]);
            options = key switch
            {
                "BaseFilters" => options with { BaseFilters = int.Parse(value, inv) },
                "Depth" => options with { Depth = int.Parse(value, inv) },
                "DropRate" => options with { DropRate = double.Parse(value, inv) },
                "InputSize" => options with { InputSize = value.Split('x').Select(v => int.Parse(v, inv)).ToArray() },
                _ => throw new ArgumentException("unknown option " + key),
            };
        }
        return options;
    }
}
