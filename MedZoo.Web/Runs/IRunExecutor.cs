using MedZoo.Engine.Checkpoints;
using MedZoo.Engine.Training;

namespace MedZoo.Web.Runs;

/// <summary>What the dashboard knows about a run's configuration before it starts.</summary>
/// <param name="Model">Model name.</param>
/// <param name="Dataset">Dataset name.</param>
/// <param name="Epochs">Planned epochs.</param>
/// <param name="Device">Requested device ("auto", "cpu", "cuda:0"); runs on one device share its slots.</param>
public sealed record RunPlan(string Model, string Dataset, int Epochs, string Device);

/// <summary>Everything one session of a run needs.</summary>
/// <param name="RunId">The run.</param>
/// <param name="ConfigJson">The run's configuration as stored.</param>
/// <param name="Resume">Continue from the run's "last" checkpoint in <paramref name="Checkpoints"/>.</param>
/// <param name="Observer">Receives the trainer's events; never blocks.</param>
/// <param name="Control">Pause, resume and stop from the dashboard.</param>
/// <param name="Checkpoints">Where checkpoints go (LiteDB file storage).</param>
public sealed record RunExecution(
    string RunId, string ConfigJson, bool Resume, ITrainingObserver Observer, TrainingControl Control, ICheckpointStore Checkpoints);

/// <summary>A named starting configuration for the New run form (e.g. a quick demo on the synthetic data).</summary>
/// <param name="Name">Shown in the preset list.</param>
/// <param name="Description">What it is for.</param>
/// <param name="Create">A fresh configuration object of <see cref="RunForm.ConfigurationType"/>.</param>
public sealed record RunPreset(string Name, string Description, Func<object> Create);

/// <summary>What the New run form edits: the configuration type, its presets and the value lists of its text options.</summary>
/// <param name="ConfigurationType">The options class; every public settable property becomes a form field.</param>
/// <param name="Presets">Starting points, the first being the default.</param>
/// <param name="Choices">Known values of a text option by its dotted path (model names, dataset names, ...), or null.</param>
public sealed record RunForm(Type ConfigurationType, IReadOnlyList<RunPreset> Presets, Func<string, IReadOnlyList<string>?> Choices);

/// <summary>
/// The seam between the run worker and the trainer. The production implementation runs the
/// engine's trainer; tests substitute a scripted one to exercise hosting without torch.
/// </summary>
public interface IRunExecutor
{
    /// <summary>
    /// Checks a configuration (an object of <see cref="RunForm.ConfigurationType"/>, as the New run
    /// form edits it) and says what it will run. An invalid option throws
    /// <see cref="Engine.InvalidOptionException"/> with the option's path and the problem apart, so
    /// the form shows it on that option's field; another problem throws <see cref="ArgumentException"/>
    /// (shown to the user as is). Does not change <paramref name="configuration"/>.
    /// </summary>
    RunPlan Describe(object configuration);

    /// <summary>How the New run form builds a configuration for this executor.</summary>
    RunForm Form { get; }

    /// <summary>
    /// Runs one session synchronously on the calling (dedicated) thread, publishing events to the
    /// observer and ending with <see cref="RunFinished"/>. Throws when the run cannot go on; the
    /// worker then records it as failed with the exception's message.
    /// </summary>
    void Execute(RunExecution execution);
}
