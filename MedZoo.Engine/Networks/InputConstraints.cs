using System.Globalization;

namespace MedZoo.Engine.Networks;

/// <summary>
/// The spatial sizes a network accepts: every spatial dimension (D, H, W) a multiple of
/// <see cref="Divisor"/> (the product of its down-sampling strides) and at least <see cref="MinSize"/>
/// (the coarsest feature map must keep enough voxels for normalisation layers in training).
/// </summary>
/// <param name="Divisor">D, H and W must be multiples of this (1: any size).</param>
/// <param name="MinSize">D, H and W must be at least this.</param>
/// <param name="Reason">Why these limits exist, for error messages and documentation.</param>
public sealed record InputConstraints(int Divisor, int MinSize, string Reason)
{
    /// <summary>
    /// Networks without pooling: any size, but every dimension >= 2 because batch norm needs more than
    /// one voxel per channel when training with batch size 1.
    /// </summary>
    public static InputConstraints FullResolution { get; } =
        new(1, 2, "no pooling, but batch norm needs more than one voxel per channel when training with batch size 1");

    /// <summary>One line for tables and docs, e.g. "D, H, W divisible by 16 and >= 32".</summary>
    public string Describe() => Divisor > 1
        ? $"D, H, W divisible by {Divisor} and >= {MinSize}"
        : $"D, H, W >= {MinSize} (any size)";

    /// <summary>True if a spatial size (D, H, W) satisfies the constraints.</summary>
    public bool Accepts(ReadOnlySpan<long> spatial)
    {
        if (spatial.Length != 3) return false;
        foreach (var s in spatial)
            if (s < MinSize || s % Divisor != 0) return false;
        return true;
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the broken constraint when
    /// <paramref name="shape"/> is not (B, <paramref name="inChannels"/>, D, H, W) with acceptable D, H, W.
    /// </summary>
    public void Validate(string model, int inChannels, ReadOnlySpan<long> shape, string parameterName = "input")
    {
        if (shape.Length != 5)
            throw new ArgumentException(
                $"{model}: input must be 5-D (B, C, D, H, W), got {Format(shape)}", parameterName);
        if (shape[0] < 1)
            throw new ArgumentException($"{model}: input batch size must be >= 1, got {Format(shape)}", parameterName);
        if (shape[1] != inChannels)
            throw new ArgumentException(
                $"{model}: input has {shape[1]} channels but the model was built for inChannels={inChannels}", parameterName);
        ValidateSpatial(model, shape[2..], parameterName);
    }

    /// <summary>Throws <see cref="ArgumentException"/> when a spatial size (D, H, W) breaks the constraints.</summary>
    public void ValidateSpatial(string model, ReadOnlySpan<long> spatial, string parameterName = "input")
    {
        if (spatial.Length != 3)
            throw new ArgumentException($"{model}: spatial size must have 3 dimensions (D, H, W), got {Format(spatial)}", parameterName);
        string[] axes = ["D", "H", "W"];
        for (var i = 0; i < 3; i++)
        {
            if (spatial[i] % Divisor != 0)
                throw new ArgumentException(
                    $"{model}: spatial size {Format(spatial)} must be divisible by {Divisor} in every dimension " +
                    $"({axes[i]}={spatial[i]}); {Reason}", parameterName);
            if (spatial[i] < MinSize)
                throw new ArgumentException(
                    $"{model}: spatial size {Format(spatial)} must be at least {MinSize} in every dimension " +
                    $"({axes[i]}={spatial[i]}); {Reason}", parameterName);
        }
    }

    internal static string Format(ReadOnlySpan<long> shape)
    {
        var parts = new string[shape.Length];
        for (var i = 0; i < shape.Length; i++) parts[i] = shape[i].ToString(CultureInfo.InvariantCulture);
        return "(" + string.Join(", ", parts) + ")";
    }
}
