namespace MedZoo.Engine;

/// <summary>One invalid option: which one, and what is wrong with it.</summary>
/// <param name="Path">
/// The option's dotted path from the options object that was validated: <c>"Split"</c> from
/// <see cref="Data.DatasetOptions"/>, <c>"Dataset.Split"</c> from <see cref="Training.TrainerOptions"/>.
/// </param>
/// <param name="Problem">What is wrong and what is expected, without the path ("must be at least 1, got 0").</param>
public sealed record OptionError(string Path, string Problem)
{
    /// <summary>This error as seen from options that hold the validated ones as property <paramref name="parent"/>.</summary>
    public OptionError Under(string parent) => this with { Path = $"{parent}.{Path}" };

    /// <summary>"path: problem", the form the command line prints.</summary>
    public override string ToString() => $"{Path}: {Problem}";
}

/// <summary>
/// Thrown by an options class's <c>Validate()</c> for its first invalid option. <see cref="Error"/>
/// keeps the option's path and the problem apart, so a form shows the problem on the option's own
/// field without reading it back out of the message; <see cref="ArgumentException.ParamName"/> is
/// the path and <see cref="Message"/> is "path: problem" (without .NET's "(Parameter ...)" suffix).
/// </summary>
public sealed class InvalidOptionException : ArgumentException
{
    private readonly string? _owner;

    /// <summary>An invalid option.</summary>
    /// <param name="path">The option's path (a property name, or a dotted path for nested options).</param>
    /// <param name="problem">What is wrong and what is expected.</param>
    /// <param name="owner">
    /// The options type named in front of the path in <see cref="Message"/> when the options are
    /// validated on their own (losses validate <c>LossOptions</c> when built): "LossOptions.FocalGamma: ...".
    /// It is dropped once the error is seen from a parent (<see cref="Under"/>).
    /// </param>
    /// <param name="inner">The error this one reports, if any.</param>
    public InvalidOptionException(string path, string problem, string? owner = null, Exception? inner = null)
        : this(new OptionError(path, problem), owner, inner)
    {
    }

    private InvalidOptionException(OptionError error, string? owner, Exception? inner)
        : base(error.ToString(), error.Path, inner)
    {
        Error = error;
        _owner = owner;
    }

    /// <summary>The option and its problem.</summary>
    public OptionError Error { get; }

    /// <inheritdoc />
    public override string Message => _owner is null ? Error.ToString() : $"{_owner}.{Error}";

    /// <summary>This error as seen from options that hold the validated ones as property <paramref name="parent"/>.</summary>
    public InvalidOptionException Under(string parent) => new(Error.Under(parent), null, this);
}
