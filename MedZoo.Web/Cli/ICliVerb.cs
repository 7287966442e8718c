using System.CommandLine;
using Spectre.Console;

namespace MedZoo.Web.Cli;

/// <summary>Where a verb writes and how it is cancelled (Ctrl+C).</summary>
/// <param name="Out">Results (tables, JSON, paths written).</param>
/// <param name="Error">Progress lines, notices and errors.</param>
/// <param name="Cancellation">Set by Ctrl+C.</param>
/// <param name="Terminal">
/// The terminal behind <paramref name="Error"/> when it is one: long tasks draw a progress bar there
/// (see <see cref="Progress.CliProgress"/>); null when output is redirected, and progress is plain lines.
/// </param>
public sealed record CliContext(TextWriter Out, TextWriter Error, CancellationToken Cancellation, IAnsiConsole? Terminal = null);

/// <summary>
/// One command-line verb of the medzoo executable (train, infer, inspect, models, ...), declared as
/// System.CommandLine symbols: the parser, the generated help, tab completion and suggestions for
/// misspelt options all come from <see cref="Symbols"/>. A verb keeps its options in fields and
/// reads them back from the <see cref="ParseResult"/> in <see cref="Run"/>; <see cref="CliApp"/>
/// makes a new instance for every command line, so symbols are never shared between parses.
/// </summary>
public interface ICliVerb
{
    /// <summary>The word typed after the executable.</summary>
    string Name { get; }

    /// <summary>One line for the verb list and the help.</summary>
    string Summary { get; }

    /// <summary>Whether the verb needs TorchSharp's native runtime (checked before it runs).</summary>
    bool NeedsTorch { get; }

    /// <summary>The verb's arguments and options, in the order the help lists them.</summary>
    IEnumerable<Symbol> Symbols { get; }

    /// <summary>Runs the verb on a command line that parsed without errors; returns the process exit code.</summary>
    /// <exception cref="CliUsageException">A value is wrong (exit code 2, with the usage line).</exception>
    int Run(ParseResult args, CliContext context);
}
