using System.Collections;
using System.CommandLine;
using MedZoo.Engine.Data;
using MedZoo.Engine.Losses;
using MedZoo.Engine.Training;
using MedZoo.Web.Cli;
using MedZoo.Web.Cli.Options;
using MedZoo.Web.Cli.Verbs;

namespace MedZoo.Tests.Web.Cli.Verbs;

/// <summary>
/// The train verb's options are generated from <see cref="TrainerOptions"/>: every public settable
/// property (nested options included) is an option, its default is the class's and its help is the
/// property's XML doc; MedicalZoo's argument names bind to the right properties.
/// </summary>
public class TrainVerbOptionsTests
{
    private static TrainerOptions Bind(params string[] args)
    {
        var verb = new TrainVerb();
        var command = new Command("train");
        foreach (var o in verb.Generated.Options) command.Options.Add(o.Option);
        var parse = command.Parse(args);
        Assert.True(parse.Errors.Count == 0, string.Join("; ", parse.Errors.Select(e => e.Message)));
        return verb.Generated.Bind(parse);
    }

    [Fact]
    public void Generated_EveryPublicSettableProperty_HasAnOptionWithTheClassDefaultAndItsXmlDocAsHelp()
    {
        var generated = new TrainVerb().Generated;
        var defaults = new TrainerOptions();
        Assert.Empty(generated.Unsupported);
        var paths = OptionsCommandLine<TrainerOptions>.SettableProperties().ToList();
        Assert.True(paths.Count > 80, $"only {paths.Count} properties found: nested options classes were not walked");
        foreach (var (path, chain) in paths)
        {
            if (TrainVerb.DeclaredByVerb.Contains(path)) continue;
            var bound = generated.Find(path);
            Assert.True(bound is not null, $"{path} has no command-line option");
            object? classDefault = defaults;
            foreach (var p in chain) classDefault = p.GetValue(classDefault);
            var optionDefault = bound.Option.HasDefaultValue ? bound.Option.GetDefaultValue() : null;
            if (classDefault is IEnumerable list and not string)
                Assert.Equal(list.Cast<object>(), Assert.IsAssignableFrom<IEnumerable>(optionDefault).Cast<object>());
            else
                Assert.Equal(classDefault, optionDefault);
            var doc = XmlDocumentation.Summary(chain[^1], generated.OptionForReference) is { } d ? CliOptions.ForCommandLine(d) : null;
            Assert.False(string.IsNullOrWhiteSpace(doc), $"{path} has no XML doc summary (is MedZoo.Engine.xml next to the dll?)");
            // A text option with known names lists them after its doc.
            Assert.Equal(TrainVerb.Spellings.GetValueOrDefault(bound.Path)?.KnownValues is { } known ? $"{doc} Names: {string.Join(", ", known)}." : doc, bound.Option.Description);
        }
    }

    [Fact]
    public void Spellings_EveryPath_IsAPropertyOfTheOptions()
    {
        // A renamed property would otherwise silently lose its MedicalZoo name.
        var paths = OptionsCommandLine<TrainerOptions>.SettableProperties().Select(p => p.Path).ToHashSet();
        Assert.All(TrainVerb.Spellings.Keys.Concat(TrainVerb.DeclaredByVerb), path => Assert.Contains(path, paths));
    }

    [Fact]
    public void Generated_VerbDeclaredProperties_AreOptionsOfTheVerbAsWell()
    {
        var verb = new TrainVerb();
        var names = verb.Symbols.OfType<Option>().Select(o => o.Name).ToHashSet();
        Assert.Contains("--log_dir", names);
        Assert.All(TrainVerb.DeclaredByVerb, path => Assert.Null(verb.Generated.Find(path)));
    }

    [Fact]
    public void Help_ComesFromTheXmlDocWithCodeAndReferencesAsText()
    {
        var batch = new TrainVerb().Generated.Find("Sampling.BatchSize")!.Option;
        Assert.Equal("--batchSz", batch.Name);
        Assert.Equal("Patches per batch (MedicalZoo's --batchSz; default 2).", batch.Description);
        var threshold = new TrainVerb().Generated.Find("Sampling.Threshold")!.Option.Description!;
        // A reference to another property is written as that property's option, an enum member as it is typed.
        Assert.Contains("With --sampling_threshold_of = crop (default)", threshold);
        Assert.DoesNotContain("<", threshold);
        Assert.Equal("--sampling_threshold_of", new TrainVerb().Generated.OptionForReference("P:MedZoo.Engine.Data.Sampling.SamplingOptions.ThresholdOf"));
        Assert.Null(new TrainVerb().Generated.OptionForReference("P:MedZoo.Engine.Data.Sampling.SamplingOptions.NoSuchProperty"));
        Assert.Contains("0 with --dataset_clip_high_percentile 100 = no clipping", new TrainVerb().Generated.Find("Dataset.ClipLowPercentile")!.Option.Description);
    }

    /// <summary>
    /// An enum option's help shows its default as it is typed (<c>adam</c>, not the member name <c>Adam</c>), and that
    /// text, typed back, binds the class default: the help never shows a default the user cannot copy.
    /// </summary>
    [Fact]
    public void HelpDefault_EveryEnumOption_IsTypedAsTheCommandLineTakesIt()
    {
        var generated = new TrainVerb().Generated;
        var enums = OptionsCommandLine<TrainerOptions>.SettableProperties()
            .Where(p => !TrainVerb.DeclaredByVerb.Contains(p.Path) && (Nullable.GetUnderlyingType(p.Chain[^1].PropertyType) ?? p.Chain[^1].PropertyType).IsEnum)
            .ToList();
        var names = enums.Select(e => generated.Find(e.Path)!.Option.Name).ToList();
        Assert.Contains("--opt", names);
        Assert.Contains("--scheduler", names);
        Assert.Contains("--loss_deep_supervision_target", names);
        foreach (var (path, _) in enums)
        {
            var bound = generated.Find(path)!;
            var shown = CliOptions.HelpDefault(bound.Option);
            if (bound.ClassDefault is null)
            {
                Assert.Null(shown); // no default, nothing shown (--loss_activation: the loss decides)
                continue;
            }
            Assert.True(shown is not null, $"{bound.Option.Name} has no typed help default");
            Assert.Equal(bound.ClassDefault!.ToString(), shown.Value.Raw);
            Assert.Matches("^[a-z0-9_]+$", shown.Value.Typed);
            Assert.Contains(shown.Value.Typed, bound.Option.HelpName!.Split('|'));
            var options = Bind(bound.Option.Name, shown.Value.Typed);
            object? value = options;
            foreach (var p in bound.Chain) value = p.GetValue(value);
            Assert.Equal(bound.ClassDefault, value);
        }
    }

    /// <summary>
    /// A newcomer reads which models, losses and datasets exist in train's help (and gets them on Tab), instead of
    /// a class name (DatasetCatalog, VaeLoss); every name listed is accepted, and aliases the list omits still are.
    /// </summary>
    [Theory]
    [InlineData("Model", "VNET")]
    [InlineData("Loss", "DiceLoss")]
    [InlineData("Dataset.Name", "mrbrains4")]
    [InlineData("LossOptions.VaeSegmentationLoss", "GeneralizedDiceLoss")]
    public void KnownValues_AreListedCompletedAndEachAccepted(string path, string alias)
    {
        var verb = new TrainVerb();
        var option = verb.Generated.Find(path)!.Option;
        var listed = option.GetCompletions(System.CommandLine.Completions.CompletionContext.Empty).Select(c => c.Label).ToArray();
        Assert.True(listed.Length >= 4, $"{option.Name} completes {listed.Length} names");
        var names = option.Description![(option.Description!.LastIndexOf("Names: ", StringComparison.Ordinal) + 7)..].TrimEnd('.').Split(", ");
        Assert.Equal(listed.Order(), names.Order());
        Assert.DoesNotMatch(@"\b(DatasetCatalog|LossFactory|ModelZoo|VaeLoss|DiceFocalLoss|GeneralizedDiceLoss)\b", option.Description);
        foreach (var name in listed.Append(alias))
        {
            var o = Bind(option.Name, name, "--dataset_path", "/data/folder");
            Assert.Equal(name, verb.Generated.Find(path)!.Chain.Aggregate((object)o, (v, p) => p.GetValue(v)!));
            o.Validate();
        }
    }

    [Fact]
    public void XmlDocumentation_EnumMemberReferences_AreWrittenAsTyped()
    {
        var summary = System.Xml.Linq.XElement.Parse(
            "<summary>Schedule; default <see cref=\"F:MedZoo.Engine.Training.SchedulerKind.ReduceOnPlateau\"/>, " +
            "see <see cref=\"F:MedZoo.Engine.Networks.Blocks.CpuConvolution.Variable\"/> and <see cref=\"P:MedZoo.Engine.Training.TrainerOptions.Seed\"/>; " +
            "<see cref=\"F:NoSuch.Type.Member\"/> or <see cref=\"F:X\"/>.</summary>");
        Assert.Equal("Schedule; default reduce_on_plateau, see MEDZOO_CPU_CONV and Seed; Member or X.",
            XmlDocumentation.PlainText(summary, typeof(SchedulerKind).Assembly));
        Assert.Equal("Schedule; default ReduceOnPlateau, see Variable and Seed; Member or X.", XmlDocumentation.PlainText(summary));
        Assert.Contains("Layout of the target; auto decides", new TrainVerb().Generated.Find("LossOptions.Target")!.Option.Description);
    }

    [Theory]
    [InlineData("Sampling.BatchSize", "--batchSz")]
    [InlineData("Sampling.PatchSize", "--dim")]
    [InlineData("Epochs", "--nEpochs")]
    [InlineData("Dataset.Name", "--dataset_name")]
    [InlineData("InChannels", "--inChannels")]
    [InlineData("Augmentation.Enabled", "--augmentation")]
    [InlineData("Scheduler.MinLearningRate", "--min_lr")]
    [InlineData("Augmentation.FlipProbability", "--augmentation_flip_probability")]
    [InlineData("LossOptions.IncludeBackground", "--loss_include_background")]
    [InlineData("Dataset.Folds", "--dataset_folds")]
    [InlineData("CheckpointInterval", "--checkpoint_interval")]
    public void Generated_Names_KeepMedicalZoosAndNameTheRestAfterTheirPath(string path, string expected) =>
        Assert.Equal(expected, new TrainVerb().Generated.Find(path)!.Option.Name);

    [Fact]
    public void Bind_MedicalZooCommandLine_SetsNestedProperties()
    {
        var o = Bind("--model", "VNET", "--dataset_name", "iseg2017", "--dataset_path", "/data/iseg", "--dim", "64", "64", "32", "--batchSz", "4",
            "--nEpochs", "7", "--lr", "1e-2", "--opt", "sgd", "--augmentation", "False", "--classes", "4", "--inChannels", "2",
            "--scheduler", "poly", "--split", "0.9", "--modalities", "T1,T2", "--threshold", "0.05");
        Assert.Equal("VNET", o.Model);
        Assert.Equal("iseg2017", o.Dataset.Name);
        Assert.Equal("/data/iseg", o.Dataset.Path);
        Assert.Equal([64, 64, 32], o.Sampling.PatchSize);
        Assert.Equal(4, o.Sampling.BatchSize);
        Assert.Equal(7, o.Epochs);
        Assert.Equal(0.01, o.LearningRate);
        Assert.Equal(OptimizerKind.Sgd, o.Optimizer);
        Assert.False(o.Augmentation.Enabled);
        Assert.Equal(4, o.Dataset.Classes);
        Assert.Equal(2, o.InChannels);
        Assert.Equal(SchedulerKind.Polynomial, o.Scheduler.Kind);
        Assert.Equal(0.9, o.Dataset.Split);
        Assert.Equal(["T1", "T2"], o.Dataset.Modalities!);
        Assert.Equal(0.05, o.Sampling.Threshold);
    }

    [Fact]
    public void Bind_GeneratedOptions_SetPropertiesTheOldCommandLineCouldNotReach()
    {
        var o = Bind("--augmentation_flip_probability", "0.25", "--loss_include_background", "--loss_activation", "sigmoid",
            "--loss_class_weights", "1", "2", "3", "--dataset_folds", "5", "--dataset_fold", "2", "--drop_rate", "0.1", "--scheduler", "reduce_on_plateau",
            "--seed", "9");
        Assert.Equal(0.25, o.Augmentation.FlipProbability);
        Assert.True(o.LossOptions.IncludeBackground);
        Assert.Equal(LossActivation.Sigmoid, o.LossOptions.Activation);
        Assert.Equal([1.0, 2.0, 3.0], o.LossOptions.ClassWeights!);
        Assert.Equal(5, o.Dataset.Folds);
        Assert.Equal(2, o.Dataset.Fold);
        Assert.Equal(0.1, o.DropRate);
        Assert.Equal(SchedulerKind.ReduceOnPlateau, o.Scheduler.Kind);
        Assert.Equal(9, o.Seed);
        Assert.Equal(new DatasetOptions().Seed, o.Dataset.Seed); // Bind alone leaves the dataset seed; the verb ties it to --seed
    }

    [Fact]
    public void Bind_NothingGiven_IsTheClassDefaults()
    {
        var o = Bind();
        var d = new TrainerOptions();
        Assert.Equal(RunConfigJsonOf(d), RunConfigJsonOf(o));
    }

    private static string RunConfigJsonOf(TrainerOptions o) => MedZoo.Web.Runs.RunConfigJson.Serialize(o);

    [Theory]
    [InlineData(new[] { "train", "--nEpochs", "0" }, "option --nEpochs: Epochs: must be at least 1, got 0")]
    [InlineData(new[] { "train", "--batchSz", "0" }, "option --batchSz: Sampling.BatchSize:")]
    [InlineData(new[] { "train", "--opt", "adagrad" }, "option --opt: 'adagrad' is not one of sgd, adam, adamw, rmsprop")]
    [InlineData(new[] { "train", "--dimm", "32" }, "unknown option '--dimm' (did you mean --dim?)")]
    [InlineData(new[] { "train", "--batchsz", "2" }, "did you mean --batchSz?")]
    [InlineData(new[] { "train", "--lr", "fast" }, "option --lr: 'fast' is not a number")]
    [InlineData(new[] { "train", "--augmentation_flip_probability", "2" }, "option --augmentation_flip_probability:")]
    [InlineData(new[] { "train", "stray" }, "unexpected argument 'stray'")]
    public void Run_BadTrainArguments_ExitTwoNamingTheOption(string[] args, string expected)
    {
        var err = new StringWriter();
        var code = CliApp.Run(args, new StringWriter(), err);
        Assert.Equal(2, code);
        Assert.Contains(expected, err.ToString());
        Assert.Contains("usage: medzoo train [options]", err.ToString());
    }

    [Fact]
    public void BuildOptions_Seed_AlsoSeedsTheDatasetUnlessDatasetSeedIsGiven()
    {
        var verb = new TrainVerb();
        var root = CliApp.CreateRootCommand([verb], (_, _) => 0);
        Assert.Equal(9, verb.BuildOptions(root.Parse(["train", "--seed", "9"])).Dataset.Seed);
        var verb2 = new TrainVerb();
        var root2 = CliApp.CreateRootCommand([verb2], (_, _) => 0);
        Assert.Equal(4, verb2.BuildOptions(root2.Parse(["train", "--seed", "9", "--dataset_seed", "4"])).Dataset.Seed);
        var verb3 = new TrainVerb();
        var root3 = CliApp.CreateRootCommand([verb3], (_, _) => 0);
        Assert.Equal("cuda", verb3.BuildOptions(root3.Parse(["train", "--cuda"])).Device);
    }
}
