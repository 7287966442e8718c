namespace MedZoo.Engine.Training.Optimizers;

/// <summary>
/// Which Adam a run trains with: MedZoo's single-pass <see cref="Adam"/> (the default), or TorchSharp's own
/// with <c>MEDZOO_ADAM=torchsharp</c>, for a run that must repeat an older run's updates bit for bit (the two
/// agree to float32 rounding, not to the bit).
/// </summary>
public static class AdamChoice
{
    /// <summary>The environment variable that chooses.</summary>
    public const string Variable = "MEDZOO_ADAM";

    /// <summary>True when <c>MEDZOO_ADAM</c> asks for TorchSharp's Adam.</summary>
    public static bool UseTorchSharp => Parse(Environment.GetEnvironmentVariable(Variable));

    /// <summary>What <c>bench</c> and the run log call the Adam in use.</summary>
    public static string Describe() => UseTorchSharp ? "TorchSharp's Adam (MEDZOO_ADAM=torchsharp)" : "MedZoo's single-pass Adam";

    /// <summary>
    /// <c>torchsharp</c> (any case) selects TorchSharp's Adam; unset, empty or <c>medzoo</c> the single-pass one;
    /// anything else is a mistake worth stopping for rather than silently training with the other optimizer.
    /// </summary>
    internal static bool Parse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "medzoo" => false,
        "torchsharp" => true,
        _ => throw new InvalidOptionException(Variable, $"expected 'medzoo' (the default, single-pass Adam) or 'torchsharp' (TorchSharp's own Adam), got '{value}'"),
    };
}
