namespace MedZoo.Web.Cli;

/// <summary>How many values an option takes.</summary>
public enum CliArity
{
    /// <summary>A switch: present or absent (`--json`).</summary>
    Flag,
    /// <summary>Exactly one value (`--lr 0.001`).</summary>
    Single,
    /// <summary>One or more values (`--dim 64 64 64`); repeating the option appends.</summary>
    Multi,
}

/// <summary>One option of a verb, declared once and used for parsing, validation and usage text.</summary>
/// <param name="Name">Long name without dashes, spelled as MedicalZoo users type it (e.g. "batchSz").</param>
/// <param name="Help">One line for the usage text.</param>
/// <param name="Arity">How many values it takes.</param>
/// <param name="Default">Default shown in usage (informational; verbs apply their own defaults).</param>
/// <param name="Aliases">Other accepted names (e.g. "batch-size").</param>
public sealed record CliOption(string Name, string Help, CliArity Arity = CliArity.Single, string? Default = null, params string[] Aliases)
{
    /// <summary>Usage fragment such as "--dim N..." or "--json".</summary>
    public string Syntax => Arity switch
    {
        CliArity.Flag => "--" + Name,
        CliArity.Multi => $"--{Name} V...",
        _ => $"--{Name} V",
    };
}

/// <summary>Bad command-line input: the message is shown with the verb's usage, never a stack trace.</summary>
public sealed class CliUsageException(string message) : Exception(message);
