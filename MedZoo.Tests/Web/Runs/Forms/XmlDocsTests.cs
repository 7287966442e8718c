using System.Text.RegularExpressions;
using MedZoo.Engine.Training;
using MedZoo.Web.Runs.Forms;

namespace MedZoo.Tests.Web.Runs.Forms;

public sealed partial class XmlDocsTests
{
    private static readonly IReadOnlyList<OptionField> Fields = OptionFields.Describe(typeof(TrainerOptions));

    public static TheoryData<string> Paths => [.. Fields.Select(f => f.Path)];

    [Theory]
    [MemberData(nameof(Paths))]
    public void Summary_EveryTrainerOption_IsWholeSentencesWithoutCodeNames(string path)
    {
        var help = Fields.Single(f => f.Path == path).Help;
        Assert.False(string.IsNullOrWhiteSpace(help), $"{path} has no help text");
        Assert.DoesNotMatch(NullWord(), help);
        // Names of types and properties ("LossFactory", "NormalizationKind", "ThresholdOf") are the code's, not the user's.
        var codeNames = typeof(TrainerOptions).Assembly.GetExportedTypes().Select(t => t.Name)
            .Concat(Fields.Select(f => f.Path.Split('.')[^1]))
            .Where(n => MultiWord().IsMatch(n))
            .ToHashSet();
        foreach (Match word in Word().Matches(help!))
            Assert.False(codeNames.Contains(word.Value), $"{path}: '{word.Value}' is a name from the code, in \"{help}\"");
    }

    [Fact]
    public void Summary_ReferencesAndNull_ReadAsWords()
    {
        var fields = Fields.ToDictionary(f => f.Path);
        Assert.Equal("Width of the model's first level; empty = the model's default.", fields["BaseFilters"].Help);
        Assert.StartsWith("Intensity normalization per modality (README's Datasets section gives each formula)", fields["Dataset.Normalization"].Help);
        Assert.Equal("Probability of flipping, drawn independently per sample for each axis in Flip axes (default 0.5).", fields["Augmentation.FlipProbability"].Help);
        Assert.Equal("Focal γ (Lin et al. 2017); 0 gives cross-entropy. Default 2.", fields["LossOptions.FocalGamma"].Help);
    }

    [GeneratedRegex(@"\bnull\b", RegexOptions.IgnoreCase)]
    private static partial Regex NullWord();

    [GeneratedRegex(@"[A-Za-z0-9]+")]
    private static partial Regex Word();

    [GeneratedRegex("^[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+$")]
    private static partial Regex MultiWord();
}
