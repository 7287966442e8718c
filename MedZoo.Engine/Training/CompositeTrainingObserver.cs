using System.Diagnostics;

namespace MedZoo.Engine.Training;

/// <summary>
/// Forwards every event to several observers, in order, on the calling (training) thread. An
/// observer that throws is reported once through <see cref="Trace"/> and otherwise ignored: a broken
/// consumer (a closed browser circuit, a full disk under the TensorBoard folder) must never end a run
/// or keep the others from their events.
/// </summary>
public sealed class CompositeTrainingObserver(IEnumerable<ITrainingObserver> observers) : ITrainingObserver
{
    private readonly ITrainingObserver[] _observers = observers.ToArray();
    private readonly HashSet<ITrainingObserver> _reported = [];

    /// <summary>Combines the given observers.</summary>
    public CompositeTrainingObserver(params ITrainingObserver[] observers) : this((IEnumerable<ITrainingObserver>)observers)
    {
    }

    /// <inheritdoc />
    public void OnEvent(TrainingEvent trainingEvent)
    {
        foreach (var o in _observers)
        {
            try
            {
                o.OnEvent(trainingEvent);
            }
            catch (Exception ex)
            {
                bool first;
                lock (_reported) first = _reported.Add(o);
                if (first)
                    Trace.TraceWarning($"MedZoo trainer: observer {o.GetType().Name} threw {ex.GetType().Name}: {ex.Message} (further errors of this observer are not reported)");
            }
        }
    }
}
