namespace MedZoo.Web.Cli;

/// <summary>Where a verb writes and how it is cancelled (Ctrl+C).</summary>
public sealed record CliContext(TextWriter Out, TextWriter Error, CancellationToken Cancellation);

/// <summary>One command-line verb of the medzoo executable (train, infer, inspect, models, ...).</summary>
public interface ICliVerb
{
    /// <summary>The word typed after the executable.</summary>
    string Name { get; }

    /// <summary>One line for the verb list.</summary>
    string Summary { get; }

    /// <summary>Positional arguments for the usage line (e.g. "FILE"); empty when none.</summary>
    string Positionals { get; }

    /// <summary>Declared options; anything else is a usage error.</summary>
    IReadOnlyList<CliOption> Options { get; }

    /// <summary>Whether the verb needs TorchSharp's native runtime (checked before it runs).</summary>
    bool NeedsTorch { get; }

    /// <summary>Runs the verb; returns the process exit code.</summary>
    int Run(CliArguments args, CliContext context);
}
