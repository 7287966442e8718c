namespace MedZoo.Web.Runs;

/// <summary>How the dashboard hosts runs (configuration section <c>MedZoo:Runs</c>).</summary>
public sealed class RunsOptions
{
    /// <summary>Configuration section the options bind from.</summary>
    public const string Section = "MedZoo:Runs";

    /// <summary>
    /// Runs trained at once on one device (default 1: two runs on one CPU or GPU only slow each
    /// other down and may run out of memory). Further runs wait in the queue.
    /// </summary>
    public int MaxConcurrentRunsPerDevice { get; set; } = 1;

    /// <summary>Throws when a value is out of range, naming it.</summary>
    public void Validate()
    {
        if (MaxConcurrentRunsPerDevice < 1)
            throw new InvalidOperationException($"{Section}:{nameof(MaxConcurrentRunsPerDevice)} must be at least 1, got {MaxConcurrentRunsPerDevice}");
    }
}
