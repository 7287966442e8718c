namespace MedZoo.Engine.Data;

/// <summary>
/// A dataset cannot be used as given: wrong folder, missing or extra files, mismatched shapes or
/// geometry, label values outside the mapping, no subjects, a patch that fits no volume. Raised
/// when the dataset is built, never deep in a training step. <see cref="Errors"/> lists every
/// problem found, each naming the subject and file; the message shows the first few.
/// Derives from <see cref="IOException"/> so hosts treat it as bad input (its message is for users), not a crash.
/// </summary>
public sealed class DatasetException : IOException
{
    private const int ShownInMessage = 8;

    /// <summary>One problem.</summary>
    public DatasetException(string error) : this([error]) { }

    /// <summary>Several problems (at least one).</summary>
    public DatasetException(IReadOnlyList<string> errors) : base(Format(errors)) => Errors = errors.ToArray();

    /// <summary>Every problem found, each a complete sentence naming the subject and file where known.</summary>
    public IReadOnlyList<string> Errors { get; }

    private static string Format(IReadOnlyList<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.Count == 0) throw new ArgumentException("at least one error is required", nameof(errors));
        if (errors.Count == 1) return errors[0];
        var shown = errors.Take(ShownInMessage).Select(e => "  - " + e);
        var more = errors.Count > ShownInMessage ? $"{Environment.NewLine}  ... and {errors.Count - ShownInMessage} more" : "";
        return $"{errors.Count} problems with the dataset:{Environment.NewLine}{string.Join(Environment.NewLine, shown)}{more}";
    }
}
