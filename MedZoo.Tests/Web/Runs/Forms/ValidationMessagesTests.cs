using System.Text.RegularExpressions;
using MedZoo.Engine;
using MedZoo.Engine.Training;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Forms;

namespace MedZoo.Tests.Web.Runs.Forms;

public sealed partial class ValidationMessagesTests
{
    private static readonly IReadOnlyList<OptionField> Fields = OptionFields.Describe(typeof(TrainerOptions));

    /// <summary>
    /// Invalid values typed into the New run form, one row per option (and a few combinations): the
    /// option typed, its text, any other option set first, and the option the error must land on.
    /// </summary>
    public static TheoryData<string, string, string?, string> Invalid => new()
    {
        { "Sampling.PatchSize", "32", null, "Sampling.PatchSize" },
        { "Sampling.PatchSize", "0 32 32", null, "Sampling.PatchSize" },
        { "Sampling.PatchSize", "20 20 20", null, "Sampling.PatchSize" },
        { "Sampling.BatchSize", "0", null, "Sampling.BatchSize" },
        { "Sampling.Threshold", "2", null, "Sampling.Threshold" },
        { "Sampling.ThresholdOf", "patch", null, "Sampling.ThresholdOf" },
        { "Sampling.Sampler", "lottery", null, "Sampling.Sampler" },
        { "Sampling.MaxRetries", "-1", null, "Sampling.MaxRetries" },
        { "Sampling.PositiveRatio", "-1", null, "Sampling.PositiveRatio" },
        { "Sampling.ClassRatios", "-1 1", null, "Sampling.ClassRatios" },
        { "Sampling.SamplesTrain", "0", null, "Sampling.SamplesTrain" },
        { "Sampling.SamplesVal", "0", null, "Sampling.SamplesVal" },
        { "Sampling.GridOverlap", "1", null, "Sampling.GridOverlap" },
        { "Sampling.Workers", "-1", null, "Sampling.Workers" },
        { "Sampling.Prefetch", "0", null, "Sampling.Prefetch" },
        { "Dataset.Name", "kits19", null, "Dataset.Name" },
        { "Dataset.Name", "brats2020", null, "Dataset.Path" },
        { "Dataset.Classes", "300", null, "Dataset.Classes" },
        { "Dataset.Split", "0", null, "Dataset.Split" },
        { "Dataset.Folds", "1", null, "Dataset.Folds" },
        { "Dataset.Fold", "5", "Dataset.Folds=3", "Dataset.Fold" },
        { "Dataset.Normalization", "whiten", null, "Dataset.Normalization" },
        { "Dataset.ClipLowPercentile", "100", null, "Dataset.ClipLowPercentile" },
        { "Dataset.SyntheticSubjects", "0", null, "Dataset.SyntheticSubjects" },
        { "Dataset.SyntheticSize", "8 8 8", null, "Dataset.SyntheticSize" },
        { "Dataset.LoadThreads", "-1", null, "Dataset.LoadThreads" },
        { "Augmentation.FlipProbability", "2", null, "Augmentation.FlipProbability" },
        { "Augmentation.FlipAxes", "3", null, "Augmentation.FlipAxes" },
        { "Augmentation.RotationDegrees", "200", null, "Augmentation.RotationDegrees" },
        { "Augmentation.ScaleMax", "0.5", null, "Augmentation.ScaleMax" },
        { "Augmentation.ElasticMagnitude", "5", null, "Augmentation.ElasticMagnitude" },
        { "Augmentation.ElasticGridSpacing", "1", null, "Augmentation.ElasticGridSpacing" },
        { "Augmentation.NoiseStd", "-1", null, "Augmentation.NoiseStd" },
        { "Augmentation.GammaMax", "0.1", null, "Augmentation.GammaMax" },
        { "Augmentation.BiasFieldOrder", "9", null, "Augmentation.BiasFieldOrder" },
        { "Scheduler.StepSize", "0", null, "Scheduler.StepSize" },
        { "Scheduler.Gamma", "2", null, "Scheduler.Gamma" },
        { "Scheduler.PlateauFactor", "1", null, "Scheduler.PlateauFactor" },
        { "LossOptions.TverskyAlpha", "-1", null, "LossOptions.TverskyAlpha" },
        { "LossOptions.TverskyBeta", "0", "LossOptions.TverskyAlpha=0", "LossOptions.TverskyAlpha" },
        { "LossOptions.FocalGamma", "-1", null, "LossOptions.FocalGamma" },
        { "LossOptions.FocalAlpha", "1.5", null, "LossOptions.FocalAlpha" },
        { "LossOptions.ClassWeights", "0 0", null, "LossOptions.ClassWeights" },
        { "LossOptions.ClassWeights", "1 -1", null, "LossOptions.ClassWeights" },
        { "LossOptions.SmoothNumerator", "-1", null, "LossOptions.SmoothNumerator" },
        { "LossOptions.VaeSegmentationLoss", " ", null, "LossOptions.VaeSegmentationLoss" },
        { "Model", "UNET4D", null, "Model" },
        { "BaseFilters", "0", null, "BaseFilters" },
        { "BaseFilters", "16", "Model=VNET", "BaseFilters" },
        { "ModelDepth", "0", null, "ModelDepth" },
        { "DropRate", "1", null, "DropRate" },
        { "InChannels", "-1", null, "InChannels" },
        { "Epochs", "0", null, "Epochs" },
        { "LearningRate", "0", null, "LearningRate" },
        { "Momentum", "1", null, "Momentum" },
        { "WeightDecay", "-1", null, "WeightDecay" },
        { "Loss", "hinge", null, "Loss" },
        { "ValidationInterval", "0", null, "ValidationInterval" },
        { "ValidationOverlap", "1", null, "ValidationOverlap" },
        { "ValidationWindowsPerBatch", "0", null, "ValidationWindowsPerBatch" },
        { "EarlyStoppingPatience", "-1", null, "EarlyStoppingPatience" },
        { "CheckpointInterval", "0", null, "CheckpointInterval" },
        { "Device", "tpu", null, "Device" },
        { "Threads", "-1", null, "Threads" },
        { "PreviewInterval", "-1", null, "PreviewInterval" },
        { "PreviewPosition", "2", null, "PreviewPosition" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void FromError_InvalidOption_LandsOnItsFieldInTheUsersWords(string path, string text, string? first, string expectedPath)
    {
        var options = TrainerRunExecutor.Demo("synthetic");
        if (first is not null)
        {
            var (p, v) = (first.Split('=')[0], first.Split('=')[1]);
            Set(options, p, v);
        }
        Set(options, path, text);

        var exception = Assert.Throws<InvalidOptionException>(options.Validate);
        Assert.Equal(expectedPath, exception.Error.Path);
        var error = ValidationMessages.FromError(exception.Error, Fields);

        Assert.Equal(expectedPath, error.Path);
        AssertUserWords(error.Message);
    }

    [Fact]
    public void FromError_OnePatchValue_SaysHowManyToGive()
    {
        // As the page does it: the form's object is stored as JSON, then validated. Serializing must not
        // evaluate the derived patch extent (it threw "... (Parameter 'dhw')" before validation could run).
        var options = TrainerRunExecutor.Demo("synthetic");
        Set(options, "Sampling.PatchSize", "32");
        var json = RunConfigJson.Serialize(options);
        Assert.DoesNotContain("\"patch\":", json, StringComparison.Ordinal);
        var stored = RunConfigJson.Deserialize<TrainerOptions>(json);

        var error = ValidationMessages.FromError(Assert.Throws<InvalidOptionException>(stored.Validate).Error, Fields);
        Assert.Equal(new FieldError("Sampling.PatchSize", "Give 3 sizes in voxels (depth, height, width), e.g. 32 32 32; got 1 value."), error);
    }

    [Fact]
    public void Validate_NestedOption_KeepsPathAndProblemApartWithoutTheComponentsPrefix()
    {
        // LossOptions on its own names itself in the message (losses validate it when built); seen from the
        // trainer's options the error is the path from there and the problem alone, never parsed out of text.
        var options = TrainerRunExecutor.Demo("synthetic");
        options.LossOptions.FocalGamma = -1;
        Assert.Equal("LossOptions.FocalGamma: must be a finite number ≥ 0, got -1", Assert.Throws<InvalidOptionException>(options.LossOptions.Validate).Message);
        var e = Assert.Throws<InvalidOptionException>(options.Validate);
        Assert.Equal(new OptionError("LossOptions.FocalGamma", "must be a finite number ≥ 0, got -1"), e.Error);
        Assert.Equal("LossOptions.FocalGamma", e.ParamName);
        Assert.Equal("LossOptions.FocalGamma: must be a finite number ≥ 0, got -1", e.Message);
    }

    [Fact]
    public void FromError_ProblemThatLooksLikeAPath_IsNotReadForAField()
    {
        // The field comes from the error's path alone: a problem quoting another option's "path: text" stays a problem.
        var error = ValidationMessages.FromError(new OptionError("Epochs", "Sampling.PatchSize: 3 values"), Fields);
        Assert.Equal(new FieldError("Epochs", "Patch size: 3 values."), error);
    }

    [Fact]
    public void FromException_PlainArgumentExceptionNamingAField_GoesToTheBanner()
    {
        // Only an InvalidOptionException lands on a field; nothing is recovered from ParamName or the message.
        var error = ValidationMessages.FromException(new ArgumentException("Epochs: must be at least 1", "Epochs"), Fields);
        Assert.Equal(new FieldError(null, "Epochs: must be at least 1."), error);
    }

    [Fact]
    public void FromError_PathWithoutAField_GoesToTheBanner()
    {
        var error = ValidationMessages.FromError(new OptionError("Sampling.NoSuchOption", "must be set"), Fields);
        Assert.Null(error.Path);
        Assert.Equal("Sampling.NoSuchOption: must be set.", error.Message);
    }

    [Fact]
    public void FromException_NoField_KeepsTheMessageForTheBannerWithoutDotNetText()
    {
        var error = ValidationMessages.FromException(new ArgumentException("the run configuration is empty", "json"), Fields);
        Assert.Equal(new FieldError(null, "The run configuration is empty."), error);
    }

    [Theory]
    [InlineData("must be in [0, Augmentation.ElasticGridSpacing / 4]", "must be in [0, Elastic grid spacing / 4]")]
    [InlineData("TverskyAlpha + TverskyBeta must be positive", "Tversky alpha + Tversky beta must be positive")]
    [InlineData("PositiveRatio/NegativeRatio: 1:-1", "Positive ratio/Negative ratio: 1:-1")]
    [InlineData("UNET3D_CICEK: 'Split' of LossOptions", "UNET3D_CICEK: 'Split' of Loss options")]
    public void InUserWords_PropertyNames_BecomeLabels(string text, string expected) =>
        Assert.Equal(expected, ValidationMessages.InUserWords(text, Fields));

    private static void Set(TrainerOptions options, string path, string text)
    {
        var field = Fields.Single(f => f.Path == path);
        Assert.Null(field.TryParse(text, out var value));
        field.Set(options, value);
    }

    /// <summary>No .NET text, no property or type names: what a person reads under a field.</summary>
    internal static void AssertUserWords(string message)
    {
        Assert.DoesNotContain("(Parameter", message, StringComparison.Ordinal);
        Assert.DoesNotContain("null", message, StringComparison.OrdinalIgnoreCase);
        foreach (Match m in PascalCase().Matches(message))
            Assert.Fail($"'{m.Value}' is an internal name, in \"{message}\"");
        Assert.Matches("^[A-Z'\"(0-9−-]", message);
        Assert.EndsWith(".", message);
    }

    // Two or more capitalised words run together ("PatchSize", "LossFactory", "NormalizationKind"), or a dotted path.
    [GeneratedRegex(@"\b[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)+\b|\b[A-Z][A-Za-z]+\.[A-Z][A-Za-z]+\b")]
    private static partial Regex PascalCase();
}
