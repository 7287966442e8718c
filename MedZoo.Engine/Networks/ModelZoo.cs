using System.Diagnostics.CodeAnalysis;
using MedZoo.Engine.Networks.Blocks;
using MedZoo.Engine.Networks.Nets;
using TorchSharp;

namespace MedZoo.Engine.Networks;

/// <summary>A network's publication.</summary>
public sealed record PaperReference(string Title, string Authors, int Year, string Url);

/// <summary>Which auxiliary outputs <see cref="ISegmentationNetwork.ForwardWithAuxiliary"/> returns.</summary>
public enum AuxiliaryOutputKind
{
    /// <summary>Logits only.</summary>
    None,
    /// <summary><see cref="SegmentationOutput.DeepSupervision"/> holds extra logits (deep supervision or a side path).</summary>
    DeepSupervision,
    /// <summary><see cref="SegmentationOutput.Vae"/> holds the VAE reconstruction, mean and log-variance.</summary>
    Vae,
}

/// <summary>
/// One entry of the <see cref="ModelZoo"/>: how to build a network by its MedicalZoo name, and what
/// to tell users about it (paper, description, input constraints, options, parameter count).
/// </summary>
public sealed class ModelInfo
{
    private readonly Func<int, int, ModelOptions, SegmentationNetwork> factory;
    private readonly Func<ModelOptions, InputConstraints> constraints;
    private readonly string constraintsNote;

    internal ModelInfo(string name, string description, PaperReference paper, ModelOptionKinds supportedOptions,
                       AuxiliaryOutputKind auxiliary, int? defaultBaseFilters, string differences,
                       Func<ModelOptions, InputConstraints> constraints, Func<int, int, ModelOptions, SegmentationNetwork> factory,
                       string constraintsNote = "")
    {
        this.constraintsNote = constraintsNote;
        Name = name;
        Description = description;
        Paper = paper;
        SupportedOptions = supportedOptions;
        Auxiliary = auxiliary;
        DefaultBaseFilters = defaultBaseFilters;
        Differences = differences;
        this.constraints = constraints;
        this.factory = factory;
    }

    /// <summary>The name MedicalZoo users type (--model), upper case.</summary>
    public string Name { get; }

    /// <summary>One or two sentences on the architecture.</summary>
    public string Description { get; }

    /// <summary>The publication the network comes from.</summary>
    public PaperReference Paper { get; }

    /// <summary>The <see cref="ModelOptions"/> hyper-parameters the model uses (InputSize is always accepted).</summary>
    public ModelOptionKinds SupportedOptions { get; }

    /// <summary>What <see cref="ISegmentationNetwork.ForwardWithAuxiliary"/> adds to the logits.</summary>
    public AuxiliaryOutputKind Auxiliary { get; }

    /// <summary>Default width of the first level when the model takes <see cref="ModelOptions.BaseFilters"/>; else null.</summary>
    public int? DefaultBaseFilters { get; }

    /// <summary>What differs from MedicalZooPytorch's implementation and why; empty when nothing does.</summary>
    public string Differences { get; }

    /// <summary>Input constraints with default options.</summary>
    public InputConstraints Constraints => constraints(ModelOptions.Default);

    /// <summary>Input constraints for the given options (UNET3D_CICEK's depth changes them).</summary>
    public InputConstraints ConstraintsFor(ModelOptions? options) => constraints(options ?? ModelOptions.Default);

    /// <summary>Human-readable constraints, e.g. "D, H, W divisible by 16 and >= 32", plus any model-specific note.</summary>
    public string ConstraintsText => constraintsNote.Length == 0 ? Constraints.Describe() : $"{Constraints.Describe()}; {constraintsNote}";

    /// <summary>
    /// Builds the network. Throws <see cref="ArgumentException"/> (or its subclass
    /// <see cref="ArgumentOutOfRangeException"/>) naming the parameter for invalid channel counts or
    /// options, including options this model does not use and an InputSize it cannot process.
    /// </summary>
    public SegmentationNetwork Create(int inChannels, int classes, ModelOptions? options = null)
    {
        options ??= ModelOptions.Default;
        RejectUnsupported(options);
        // Validate the cheap things before building (and allocating) anything.
        Check.AtLeast(inChannels, 1, nameof(inChannels));
        Check.AtLeast(classes, 2, nameof(classes));
        var limits = constraints(options);
        if (options.InputSize is { } size)
        {
            if (size.Count != 3)
                throw new ArgumentException($"{Name}: InputSize must have 3 values (D, H, W), got {size.Count}", nameof(options));
            limits.ValidateSpatial(Name, size.Select(s => (long)s).ToArray(), nameof(options));
        }
        return factory(inChannels, classes, options);
    }

    /// <summary>Number of trainable parameters for the given channels, computed by building the network.</summary>
    public long CountParameters(int inChannels, int classes, ModelOptions? options = null)
    {
        // Counting needs shapes, not values: build without drawing from torch's shared generator.
        using var skip = ParameterInitialization.Skip();
        using var network = Create(inChannels, classes, options);
        return ModelZoo.CountParameters(network);
    }

    private void RejectUnsupported(ModelOptions options)
    {
        var given = ModelOptionKinds.None;
        if (options.BaseFilters is not null) given |= ModelOptionKinds.BaseFilters;
        if (options.Depth is not null) given |= ModelOptionKinds.Depth;
        if (options.DropRate is not null) given |= ModelOptionKinds.DropRate;
        var unsupported = given & ~SupportedOptions;
        if (unsupported != ModelOptionKinds.None)
        {
            var uses = SupportedOptions == ModelOptionKinds.None ? "none" : SupportedOptions.ToString();
            throw new ArgumentException($"{Name} does not use the option(s) {unsupported} (it uses: {uses}, and InputSize)", nameof(options));
        }
    }

    public override string ToString() => Name;
}

/// <summary>
/// The model zoo: every network of MedicalZooPytorch's 3D zoo by the names its users type
/// (case-insensitive), plus UNET3D_CICEK. Used by the CLI (<c>models</c>, <c>train</c>), the trainer
/// and the dashboard. All networks map (B, inChannels, D, H, W) to logits (B, classes, D, H, W).
/// </summary>
public static class ModelZoo
{
    private static readonly Dictionary<string, ModelInfo> ByName;

    static ModelZoo()
    {
        Models = Build();
        ByName = Models.ToDictionary(m => m.Name, StringComparer.OrdinalIgnoreCase);
        Names = Models.Select(m => m.Name).ToArray();
    }

    /// <summary>Every model, in MedicalZoo's order, then UNET3D_CICEK.</summary>
    public static IReadOnlyList<ModelInfo> Models { get; }

    /// <summary>Every model name.</summary>
    public static IReadOnlyList<string> Names { get; }

    /// <summary>Looks a model up by name (case-insensitive).</summary>
    public static bool TryGet(string name, [NotNullWhen(true)] out ModelInfo? info)
    {
        info = null;
        return name is not null && ByName.TryGetValue(name.Trim(), out info);
    }

    /// <summary>The model called <paramref name="name"/> (case-insensitive); an unknown name lists the valid ones.</summary>
    public static ModelInfo Get(string name) =>
        TryGet(name, out var info)
            ? info
            : throw new ArgumentException($"unknown model '{name}'; valid names: {string.Join(", ", Names)}", nameof(name));

    /// <summary>Builds the model called <paramref name="name"/>; see <see cref="ModelInfo.Create"/>.</summary>
    public static SegmentationNetwork Create(string name, int inChannels, int classes, ModelOptions? options = null) =>
        Get(name).Create(inChannels, classes, options);

    /// <summary>Trainable parameters of the model called <paramref name="name"/> for these channels.</summary>
    public static long CountParameters(string name, int inChannels, int classes, ModelOptions? options = null) =>
        Get(name).CountParameters(inChannels, classes, options);

    /// <summary>Trainable parameters (elements of parameters that require gradients) of any module.</summary>
    public static long CountParameters(torch.nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        long total = 0;
        foreach (var p in module.parameters())
            if (p.requires_grad) total += p.numel();
        return total;
    }

    private static ModelInfo[] Build()
    {
        return
        [
            new(UNet3D.ZooName,
                "Isensee's 3D U-Net: residual context pathway (instance norm, leaky ReLU), localization pathway, deep supervision summed into the output.",
                new("Brain Tumor Segmentation and Radiomics Survival Prediction: Contribution to the BRATS 2017 Challenge",
                    "F. Isensee, P. Kickingereder, W. Wick, M. Bendszus, K. H. Maier-Hein", 2017, "https://arxiv.org/abs/1802.10508"),
                ModelOptionKinds.BaseFilters, AuxiliaryOutputKind.DeepSupervision, UNet3D.DefaultBaseFilters,
                "Deep-supervision maps are also returned as auxiliary outputs.",
                _ => UNet3D.Limits,
                (c, k, o) => new UNet3D(c, k, o.BaseFilters ?? UNet3D.DefaultBaseFilters)),
            new(SinglePathDenseNet.ZooName,
                "Single-path dense network: all modalities fused at the input, one 9-layer dense block, 1×1×1 convs to 150 features, classifier.",
                HyperDensePaper(), ModelOptionKinds.DropRate, AuxiliaryOutputKind.None, null,
                "Dense-block width computed (the reference hard-codes 451/452 and crashes for 3+ inputs).",
                _ => InputConstraints.FullResolution,
                (c, k, o) => new SinglePathDenseNet(c, k, o.DropRate ?? SinglePathDenseNet.DefaultDropRate)),
            new(DualPathDenseNet.ZooName,
                "Multi-path dense network with late fusion: one 9-layer dense path per modality, features concatenated, classifier.",
                HyperDensePaper(), ModelOptionKinds.DropRate, AuxiliaryOutputKind.None, null,
                "Any number of modalities, 9-layer paths for all (the reference only works for 3 inputs); no unused per-path classifiers.",
                _ => InputConstraints.FullResolution,
                (c, k, o) => new DualPathDenseNet(c, k, o.DropRate ?? DualPathDenseNet.DefaultDropRate)),
            new(DualSingleDenseNet.ZooName,
                "Dual-single dense network: one dense layer per modality, outputs fused, then one 8-layer dense path and a classifier.",
                HyperDensePaper(), ModelOptionKinds.DropRate, AuxiliaryOutputKind.None, null,
                "Any number of modalities, each with its own early layer (the reference works for 2 or 3 and reuses one layer for 2).",
                _ => InputConstraints.FullResolution,
                (c, k, o) => new DualSingleDenseNet(c, k, o.DropRate ?? DualSingleDenseNet.DefaultDropRate)),
            new(HyperDenseNet.ZooName,
                "HyperDense-Net: one path per modality with dense connections within and across paths, 1×1×1 fusion convs, classifier.",
                HyperDensePaper(), ModelOptionKinds.None, AuxiliaryOutputKind.None, null,
                "Any number of modalities, padded convolutions (output = input size), no stride-3 up-sampling for 2 inputs.",
                _ => InputConstraints.FullResolution,
                (c, k, _) => new HyperDenseNet(c, k)),
            new(SkipDenseNet3D.ZooName,
                "3D DenseSeg: four dense blocks with transitions; each block's output up-sampled to full resolution and fused with the first features.",
                new("3D Densely Convolutional Networks for Volumetric Segmentation", "T. D. Bui, J. Shin, T. Moon", 2017,
                    "https://arxiv.org/abs/1709.03199"),
                ModelOptionKinds.DropRate, AuxiliaryOutputKind.None, null,
                "inChannels honoured (the reference always builds for 2); up-sampling groups = gcd(width, classes) so any class count works.",
                _ => SkipDenseNet3D.Limits,
                (c, k, o) => new SkipDenseNet3D(c, k, o.DropRate ?? SkipDenseNet3D.DefaultDropRate)),
            new(DenseVoxelNet.ZooName,
                "DenseVoxNet: two dense blocks around a transition, transposed-conv up-sampling, plus an auxiliary side-path classifier.",
                new("Automatic 3D Cardiovascular MR Segmentation with Densely-Connected Volumetric ConvNets",
                    "L. Yu, J.-Z. Cheng, Q. Dou, X. Yang, H. Chen, J. Qin, P.-A. Heng", 2017, "https://arxiv.org/abs/1708.00573"),
                ModelOptionKinds.None, AuxiliaryOutputKind.DeepSupervision, null,
                "The side-path logits are an auxiliary output instead of a second tuple element.",
                _ => DenseVoxelNet.Limits,
                (c, k, _) => new DenseVoxelNet(c, k)),
            new(VNet.ZooName,
                "V-Net: 5×5×5 residual stages, four stride-2 down-samplings (16 to 256 channels), transposed-conv up-sampling, PReLU.",
                VNetPaper(), ModelOptionKinds.None, AuxiliaryOutputKind.None, null,
                "Input residual works for any channel count (the reference crashes for 3, 5, 6, 7, ... inputs).",
                _ => VNet.Limits,
                (c, k, _) => new VNet(c, k)),
            new(VNetLight.ZooName,
                "V-Net light: V-Net without its deepest stage (three down-samplings, 16 to 128 channels).",
                VNetPaper(), ModelOptionKinds.None, AuxiliaryOutputKind.None, null,
                "Input residual works for any channel count (the reference crashes for 3, 5, 6, 7, ... inputs).",
                _ => VNetLight.Limits,
                (c, k, _) => new VNetLight(c, k)),
            new(ResNet3DVae.ZooName,
                "Myronenko's encoder-decoder with residual GroupNorm blocks and a VAE branch reconstructing the input (latent size 4·baseFilters = 128).",
                new("3D MRI brain tumor segmentation using autoencoder regularization", "A. Myronenko", 2018,
                    "https://arxiv.org/abs/1810.11654"),
                ModelOptionKinds.BaseFilters, AuxiliaryOutputKind.Vae, ResNet3DVae.DefaultBaseFilters,
                "Log-variance taken directly (the reference's log() of a linear output gives NaN); residual shortcuts carry the block input as in the paper. "
                + "The VAE is built for InputSize (default 64³).",
                _ => ResNet3DVae.Limits,
                (c, k, o) => new ResNet3DVae(c, k, o.BaseFilters ?? ResNet3DVae.DefaultBaseFilters, o.InputSize),
                "with the VAE (training) exactly InputSize (default 64³), each divisible by 16"),
            new(ResNetMed3D.ZooName,
                "Med3D: 3D ResNet encoder (stride 8, dilated stages 3 and 4) and a transposed-conv decoder; depth 18 by default (as MedicalZoo's create_model), 10/34/50/101/152/200 selectable.",
                new("Med3D: Transfer Learning for 3D Medical Image Analysis", "S. Chen, K. Ma, Y. Zheng", 2019,
                    "https://arxiv.org/abs/1904.00625"),
                ModelOptionKinds.Depth, AuxiliaryOutputKind.None, null,
                "Bottleneck blocks (depth >= 50) apply their dilation (the reference ignores it).",
                _ => ResNetMed3D.Limits,
                (c, k, o) => new ResNetMed3D(c, k, o.Depth ?? ResNetMed3D.DefaultDepth)),
            new(HighResNet3D.ZooName,
                "HighRes3DNet: full-resolution residual network with dilations 1, 2, 4 (16, 32, 64 channels) and zero-padded shortcuts.",
                new("On the Compactness, Efficiency, and Representation of 3D Convolutional Networks: Brain Parcellation as a Pretext Task",
                    "W. Li, G. Wang, L. Fidon, S. Ourselin, M. J. Cardoso, T. Vercauteren", 2017, "https://arxiv.org/abs/1707.01992"),
                ModelOptionKinds.None, AuxiliaryOutputKind.None, null, "",
                _ => InputConstraints.FullResolution,
                (c, k, _) => new HighResNet3D(c, k)),
            new(UNet3DCicek.ZooName,
                "The original 3D U-Net: two 3×3×3 conv+BN+ReLU per level, 2×2×2 max-pool, transposed-conv up-sampling, skip concatenation; padded convolutions.",
                new("3D U-Net: Learning Dense Volumetric Segmentation from Sparse Annotation",
                    "Ö. Çiçek, A. Abdulkadir, S. S. Lienkamp, T. Brox, O. Ronneberger", 2016, "https://arxiv.org/abs/1606.06650"),
                ModelOptionKinds.BaseFilters | ModelOptionKinds.Depth, AuxiliaryOutputKind.None, UNet3DCicek.DefaultBaseFilters,
                "Not in MedicalZoo. Padded convolutions so the output has the input's size (the paper's are valid).",
                o => UNet3DCicek.LimitsFor(o.Depth ?? UNet3DCicek.DefaultDepth),
                (c, k, o) => new UNet3DCicek(c, k, o.BaseFilters ?? UNet3DCicek.DefaultBaseFilters, o.Depth ?? UNet3DCicek.DefaultDepth)),
        ];
    }

    private static PaperReference HyperDensePaper() =>
        new("HyperDense-Net: A hyper-densely connected CNN for multi-modal image segmentation",
            "J. Dolz, K. Gopinath, J. Yuan, H. Lombaert, C. Desrosiers, I. Ben Ayed", 2018, "https://arxiv.org/abs/1804.02967");

    private static PaperReference VNetPaper() =>
        new("V-Net: Fully Convolutional Neural Networks for Volumetric Medical Image Segmentation",
            "F. Milletari, N. Navab, S.-A. Ahmadi", 2016, "https://arxiv.org/abs/1606.04797");
}
