namespace MedZoo.Web.Cli;

/// <summary>Bad command-line input: the message is shown with the verb's usage line, never a stack trace (exit code 2).</summary>
public sealed class CliUsageException(string message) : Exception(message);
