namespace MedZoo.Reliability.Fuzzing;

/// <summary>
/// A reader of outside input under fuzzing: valid seed inputs, how to mutate one, and how to feed one to the real
/// reader and judge what it did. Exceptions that escape <see cref="Run"/> are crashes.
/// </summary>
public abstract class FuzzTarget : IDisposable
{
    /// <param name="workDirectory">A scratch folder the target owns (seeds, inputs, databases).</param>
    protected FuzzTarget(string workDirectory)
    {
        WorkDirectory = workDirectory;
        Directory.CreateDirectory(workDirectory);
    }

    /// <summary>Scratch folder.</summary>
    public string WorkDirectory { get; }

    /// <summary>The --kind name.</summary>
    public abstract string Kind { get; }

    /// <summary>What is fed to which reader, for the report.</summary>
    public abstract string Description { get; }

    /// <summary>Valid inputs to mutate.</summary>
    public abstract IReadOnlyList<FuzzInput> Seeds { get; }

    /// <summary>A mutated copy of <paramref name="seed"/>.</summary>
    public abstract FuzzInput Mutate(FuzzInput seed, Mutator mutator);

    /// <summary>Feeds <paramref name="input"/> to the reader (in <paramref name="folder"/>, a scratch folder of this input) and judges it.</summary>
    public abstract FuzzVerdict Run(FuzzInput input, string folder);

    /// <summary>Every fuzz kind, by name.</summary>
    public static IReadOnlyList<string> Kinds { get; } = ["nifti", "analyze", "metaimage", "gzip", "journal", "checkpoint", "datasetjson", "upload"];

    /// <summary>Creates the target of <paramref name="kind"/> in <paramref name="workDirectory"/>.</summary>
    public static FuzzTarget Create(string kind, string workDirectory) => kind switch
    {
        "nifti" or "analyze" or "metaimage" or "gzip" => new VolumeTarget(kind, workDirectory),
        "journal" => new JournalTarget(workDirectory),
        "checkpoint" => new CheckpointTarget(workDirectory),
        "datasetjson" => new DatasetJsonTarget(workDirectory),
        "upload" => new UploadTarget(workDirectory),
        _ => throw new ArgumentException($"unknown fuzz kind '{kind}'; expected one of {string.Join(", ", Kinds)}", nameof(kind)),
    };

    /// <summary>A refusal whose message starts with the file's name (what users need to find the bad file) or, at least, says something.</summary>
    protected static FuzzVerdict RefusedNaming(Exception e, string fileName) =>
        e.Message.StartsWith(fileName + ":", StringComparison.Ordinal) || e.Message.Contains(fileName, StringComparison.Ordinal)
            ? new FuzzVerdict(FuzzOutcome.Refused, e.Message)
            : new FuzzVerdict(FuzzOutcome.RefusedUnclear, $"{e.GetType().Name}: {e.Message}");

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}
