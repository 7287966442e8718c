namespace MedZoo.Web.Settings;

/// <summary>Sizes in bytes as messages show them, for limits set in settings (upload size, memory budget).</summary>
public static class ByteSize
{
    /// <summary>A size in bytes for messages ("512 MiB").</summary>
    public static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => FormattableString.Invariant($"{bytes / (double)(1L << 30):0.#} GiB"),
        >= 1L << 20 => FormattableString.Invariant($"{bytes / (double)(1L << 20):0.#} MiB"),
        >= 1L << 10 => FormattableString.Invariant($"{bytes / 1024.0:0.#} KiB"),
        _ => $"{bytes} bytes",
    };
}
