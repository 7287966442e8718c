namespace MedZoo.Engine.Networks;

/// <summary>
/// Optional hyper-parameters for <see cref="ModelZoo.Create"/>. Null means the model's default
/// (see <see cref="ModelInfo"/>). A model rejects an option it does not use
/// (<see cref="ModelInfo.SupportedOptions"/>), so a typo in a configuration is an error rather than
/// silently ignored; <see cref="InputSize"/> is accepted by every model.
/// </summary>
public sealed record ModelOptions
{
    /// <summary>Default options (every model's defaults).</summary>
    public static ModelOptions Default { get; } = new();

    /// <summary>Width of the first level (UNET3D: 8, UNET3D_CICEK: 32, RESNET3DVAE: 32, a multiple of 8).</summary>
    public int? BaseFilters { get; init; }

    /// <summary>UNET3D_CICEK: number of 2×2×2 poolings (default 3). RESNETMED3D: ResNet depth 10/18/34/50/101/152/200 (default 18, as MedicalZoo's create_model).</summary>
    public int? Depth { get; init; }

    /// <summary>Dropout probability of the dense layers (DENSENET1/2/3, SKIPDENSENET3D), in [0, 1).</summary>
    public double? DropRate { get; init; }

    /// <summary>
    /// The patch size (D, H, W) the model will be trained on. RESNET3DVAE sizes its VAE's dense
    /// layers from it (default 64³); every other model checks it against its input constraints at
    /// build time, so a bad patch size fails before training starts.
    /// </summary>
    public IReadOnlyList<int>? InputSize { get; init; }
}

/// <summary>The hyper-parameters of <see cref="ModelOptions"/> a model may use (besides InputSize).</summary>
[Flags]
public enum ModelOptionKinds
{
    /// <summary>No tunable hyper-parameter.</summary>
    None = 0,
    /// <summary><see cref="ModelOptions.BaseFilters"/>.</summary>
    BaseFilters = 1,
    /// <summary><see cref="ModelOptions.Depth"/>.</summary>
    Depth = 2,
    /// <summary><see cref="ModelOptions.DropRate"/>.</summary>
    DropRate = 4,
}
