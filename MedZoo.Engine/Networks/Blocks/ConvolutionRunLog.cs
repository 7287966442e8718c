using System.Collections.Concurrent;

namespace MedZoo.Engine.Networks.Blocks;

/// <summary>Where a <see cref="ConvolutionChoice"/> came from.</summary>
public enum ConvolutionChoiceSource
{
    /// <summary>Checked (and timed) on this call: the first use of the shape in this process.</summary>
    Checked,

    /// <summary>Checked earlier in this process (by this run or another).</summary>
    Process,

    /// <summary>Read from the route cache on disk (see <see cref="ConvolutionRouteCache"/>).</summary>
    Cache,
}

/// <summary>
/// How one combination of convolution settings and shapes runs on the CPU, and why (a plain record for
/// logs and reports; see <see cref="CpuConvolution"/>).
/// </summary>
public sealed record ConvolutionChoice
{
    /// <summary>The layer settings and the input and weight shapes, as text (the key of the choice).</summary>
    public required string Shape { get; init; }

    /// <summary>The route: <c>channels_last</c>, <c>plain</c> (NCDHW), <c>depth_split</c>, <c>depth_batched</c> (see <see cref="CpuConvolution"/>) or <c>float64</c>.</summary>
    public required string Route { get; init; }

    /// <summary>Where the choice came from.</summary>
    [System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<ConvolutionChoiceSource>))]
    public required ConvolutionChoiceSource Source { get; init; }

    /// <summary>True when the process's route is channels-last but this shape was found wrong there (a fallback, not a speed choice).</summary>
    public bool LeftChannelsLast { get; init; }

    /// <summary>Why this route: which routes were right, and their times where both were.</summary>
    public string Reason { get; init; } = "";

    /// <summary>Seconds of one channels-last call (forward and, with gradients, backward) when the routes were timed.</summary>
    public double? ChannelsLastSeconds { get; init; }

    /// <summary>Seconds of one plain NCDHW call when the routes were timed.</summary>
    public double? PlainSeconds { get; init; }

    /// <summary>Seconds of one depth-split call (see <see cref="CpuConvolution"/>) when it was timed.</summary>
    public double? DepthSplitSeconds { get; init; }

    /// <summary>Seconds of one depth-batched call (see <see cref="CpuConvolution"/>) when it was timed.</summary>
    public double? DepthBatchedSeconds { get; init; }

    /// <summary>One line for logs: the shape, its route and why.</summary>
    public required string Note { get; init; }
}

/// <summary>
/// One run's own record of how its CPU convolutions were routed. Shape checks and route choices are
/// made once per process and shared by every run in it, so a process-wide list would show a later run
/// the shapes of earlier ones (other models, other patch sizes). While a log is current — from
/// <see cref="Begin"/> until it is disposed, on the thread that began it and in tasks started from
/// there — each CPU convolution notes its shape in it once, whether the shape was checked now, earlier
/// in the process or read from the cache. Logs nest: disposing one makes the previous one current.
/// </summary>
public sealed class ConvolutionRunLog : IDisposable
{
    private static readonly AsyncLocal<ConvolutionRunLog?> CurrentLog = new();

    private readonly ConvolutionRunLog? _previous;
    private readonly ConcurrentDictionary<string, byte> _seen = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<ConvolutionChoice> _choices = new();

    private ConvolutionRunLog(ConvolutionRunLog? previous) => _previous = previous;

    /// <summary>Starts a log and makes it current for this thread (and tasks started from it).</summary>
    public static ConvolutionRunLog Begin()
    {
        var log = new ConvolutionRunLog(CurrentLog.Value);
        CurrentLog.Value = log;
        return log;
    }

    internal static ConvolutionRunLog? Current => CurrentLog.Value;

    /// <summary>Every shape this run's CPU convolutions used, in the order first used.</summary>
    public IReadOnlyList<ConvolutionChoice> Choices => [.. _choices];

    /// <summary>Number of entries in <see cref="Choices"/> (cheap to poll).</summary>
    public int Count => _choices.Count;

    internal void Note(ConvolutionChoice choice)
    {
        if (_seen.TryAdd(choice.Shape, 0)) _choices.Enqueue(choice);
    }

    /// <summary>Ends the log: the one current before <see cref="Begin"/> is current again.</summary>
    public void Dispose()
    {
        if (ReferenceEquals(CurrentLog.Value, this)) CurrentLog.Value = _previous;
    }
}
