using MedZoo.Engine;
using System.Text.Json;
using MedZoo.Engine.Training;
using MedZoo.Engine.Checkpoints;

namespace MedZoo.Tests.Engine.Training;

public class TrainerOptionsTests
{
    [Fact]
    public void Validate_Defaults_Pass() => new TrainerOptions().Validate();

    [Theory]
    [InlineData("Epochs")]
    [InlineData("LearningRate")]
    [InlineData("Momentum")]
    [InlineData("Loss")]
    [InlineData("Device")]
    [InlineData("ValidationOverlap")]
    [InlineData("Dataset.Split")]
    [InlineData("Sampling.PatchSize")]
    [InlineData("Scheduler.Gamma")]
    [InlineData("LossOptions.TverskyAlpha")]
    [InlineData("PreviewPosition")]
    [InlineData("Model")]
    [InlineData("BaseFilters")]
    [InlineData("Sampling.PatchSize ")]
    public void Validate_BadField_MessageNamesIt(string field)
    {
        var o = new TrainerOptions();
        switch (field)
        {
            case "Epochs": o.Epochs = 0; break;
            case "LearningRate": o.LearningRate = double.NaN; break;
            case "Momentum": o.Momentum = 1; break;
            case "Loss": o.Loss = "hinge"; break;
            case "Device": o.Device = "tpu"; break;
            case "ValidationOverlap": o.ValidationOverlap = 1; break;
            case "Dataset.Split": o.Dataset.Split = 0; break;
            case "Sampling.PatchSize": o.Sampling.PatchSize = [32, 32]; break;
            case "Scheduler.Gamma": o.Scheduler.Gamma = 2; break;
            case "LossOptions.TverskyAlpha": o.LossOptions.TverskyAlpha = -1; break;
            case "PreviewPosition": o.PreviewPosition = 2; break;
            case "Model": o.Model = "UNET4D"; break;
            case "BaseFilters": o.Model = "VNET"; o.BaseFilters = 16; break;
            case "Sampling.PatchSize ": o.Model = "UNET3D"; o.Sampling.PatchSize = [16, 16, 16]; break;
        }
        var e = Assert.Throws<InvalidOptionException>(o.Validate);
        Assert.StartsWith(field.Trim(), e.Message);
        Assert.Equal(field.Trim(), e.Error.Path);
        Assert.Equal($"{e.Error.Path}: {e.Error.Problem}", e.Message);
    }

    [Fact]
    public void Json_RoundTrip_KeepsEveryComposedOption()
    {
        var o = new TrainerOptions
        {
            Model = "VNET", Epochs = 7, Optimizer = OptimizerKind.AdamW, Loss = "tversky", Resume = "last",
            Dataset = { Name = "synthetic", Split = 0.5, Normalization = "max_min" },
            Sampling = { PatchSize = [32, 48, 64], BatchSize = 3 },
            Augmentation = { Enabled = false },
            Scheduler = { Kind = SchedulerKind.Polynomial },
            LossOptions = { IncludeBackground = true },
        };
        var json = JsonSerializer.Serialize(o, Checkpoint.JsonOptions);
        var back = JsonSerializer.Deserialize<TrainerOptions>(json, Checkpoint.JsonOptions)!;
        Assert.Equal(json, JsonSerializer.Serialize(back, Checkpoint.JsonOptions));
        Assert.Equal([32, 48, 64], back.Sampling.PatchSize);
        Assert.Equal(SchedulerKind.Polynomial, back.Scheduler.Kind);
        back.Validate();
    }

    [Fact]
    public void Clone_EveryNestedOptionAndArray_IsCopiedNotShared()
    {
        var original = new TrainerOptions { Resume = "last" };
        original.Dataset.Modalities = ["T1"];
        original.Sampling.ClassRatios = [1, 2];
        original.LossOptions.ClassWeights = [1, 2];
        var copy = original.Clone();

        AssertNothingShared(original, copy, nameof(TrainerOptions));
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(original), System.Text.Json.JsonSerializer.Serialize(copy));
        copy.Dataset.Path = "/elsewhere";
        copy.Sampling.PatchSize[0] = 1;
        Assert.Null(original.Dataset.Path);
        Assert.NotEqual(1, original.Sampling.PatchSize[0]);
    }

    // Walks every public property: objects other than strings must be distinct instances, down to the arrays.
    private static void AssertNothingShared(object a, object b, string path)
    {
        foreach (var p in a.GetType().GetProperties().Where(p => p.CanRead && p.CanWrite && p.GetIndexParameters().Length == 0))
        {
            if (p.PropertyType.IsValueType || p.PropertyType == typeof(string) || Nullable.GetUnderlyingType(p.PropertyType) is not null) continue;
            var (x, y) = (p.GetValue(a), p.GetValue(b));
            if (x is null) continue;
            Assert.False(ReferenceEquals(x, y), $"{path}.{p.Name} is shared by the copy");
            if (x is not System.Collections.IEnumerable) AssertNothingShared(x, y!, $"{path}.{p.Name}");
        }
    }
}
