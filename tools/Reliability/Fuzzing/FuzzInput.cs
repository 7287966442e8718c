namespace MedZoo.Reliability.Fuzzing;

/// <summary>One input of a fuzz run: the files it consists of (name → bytes); the first is the one handed to the reader.</summary>
public sealed record FuzzInput(IReadOnlyList<KeyValuePair<string, byte[]>> Files)
{
    /// <summary>An input of one file.</summary>
    public static FuzzInput Of(string name, byte[] bytes) => new([new(name, bytes)]);

    /// <summary>The file handed to the reader.</summary>
    public string MainName => Files[0].Key;

    /// <summary>Total size in bytes.</summary>
    public long Bytes => Files.Sum(f => (long)f.Value.Length);

    /// <summary>A copy with one file's content replaced.</summary>
    public FuzzInput With(int index, byte[] bytes) =>
        new(Files.Select((f, i) => i == index ? new KeyValuePair<string, byte[]>(f.Key, bytes) : f).ToList());

    /// <summary>Writes the files into <paramref name="folder"/> (created, emptied first); returns the main file's path.</summary>
    public string WriteTo(string folder)
    {
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        Directory.CreateDirectory(folder);
        foreach (var (name, bytes) in Files) File.WriteAllBytes(Path.Combine(folder, name), bytes);
        return Path.Combine(folder, MainName);
    }
}

/// <summary>What a reader did with an input.</summary>
public enum FuzzOutcome
{
    /// <summary>Read without complaint (a mutation can leave an input valid).</summary>
    Accepted,

    /// <summary>Refused with the reader's documented exception (or result) and a message that names the problem.</summary>
    Refused,

    /// <summary>Refused the documented way, but the message does not say which file or what was wrong.</summary>
    RefusedUnclear,

    /// <summary>An exception the reader's contract does not allow (a bug: in a server, a 500 or a dead background task).</summary>
    Crashed,

    /// <summary>Still running after the time limit.</summary>
    Hung,
}

/// <summary>The verdict on one input: its outcome and the message or exception that decided it.</summary>
public sealed record FuzzVerdict(FuzzOutcome Outcome, string Detail)
{
    public static FuzzVerdict Accepted { get; } = new(FuzzOutcome.Accepted, "");
}
