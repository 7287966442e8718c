using MedZoo.Engine.Training;

namespace MedZoo.Web.Runs.Live;

/// <summary>
/// What an external client subscribed through <see cref="TrainingHub"/> receives: the trainer's
/// events, each with its sequence number (see <see cref="RunUpdate"/>), and the dashboard's
/// status changes. JSON payloads use camelCase, enums as strings, and NaN/Infinity as the strings
/// "NaN"/"Infinity" (a Dice score can be NaN for a class never seen); configure the client's
/// protocol the same way. Each connection has its own queue on the server: a client that reads
/// slowly receives fewer <see cref="StepCompleted"/> and <see cref="SlicePreview"/> calls (the
/// newest are kept) and every other call in order; one that falls too far behind is disconnected
/// and, once reconnected, subscribes again and reads what it missed from the HTTP history API.
/// </summary>
public interface ITrainingClient
{
    Task RunStarted(long seq, RunStarted e);
    Task StepCompleted(long seq, StepCompleted e);
    Task EpochCompleted(long seq, EpochCompleted e);
    Task SlicePreview(long seq, SlicePreview e);
    Task CheckpointSaved(long seq, CheckpointSaved e);
    Task RunStateChanged(long seq, RunStateChanged e);
    Task RunLog(long seq, RunLog e);
    Task RunFinished(long seq, RunFinished e);
    Task RunStatusChanged(RunStatusChanged e);
}
