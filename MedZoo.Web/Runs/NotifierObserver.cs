using MedZoo.Engine.Training;
using MedZoo.Web.Runs.Live;

namespace MedZoo.Web.Runs;

/// <summary>The observer handed to the trainer: every event goes to the notifier, which never blocks.</summary>
public sealed class NotifierObserver(RunNotifier notifier) : ITrainingObserver
{
    /// <inheritdoc />
    public void OnEvent(TrainingEvent trainingEvent) => notifier.Publish(trainingEvent);
}
