namespace MedZoo.Web.Live;

/// <summary>
/// How far the SignalR hub lets one connection fall behind (configuration section <c>MedZoo:Live</c>).
/// Each hub connection has its own queue, so a slow or stalled client only ever holds up itself.
/// </summary>
public sealed class LiveOptions
{
    /// <summary>Configuration section the options bind from.</summary>
    public const string Section = "MedZoo:Live";

    /// <summary>
    /// Step and slice-preview updates queued for one connection (default 64). When more arrive the
    /// oldest are dropped: a client that falls behind sees fewer, newer points.
    /// </summary>
    public int StepBacklog { get; set; } = 64;

    /// <summary>
    /// Other updates (start, epochs, checkpoints, pause/resume, log lines, finish, status) queued for
    /// one connection (default 1024). These are never dropped: a connection with more waiting is
    /// disconnected instead, and a client that reconnects and subscribes again reads what it missed
    /// from <c>/api/runs/{id}/metrics</c> and <c>/events</c>.
    /// </summary>
    public int EventBacklog { get; set; } = 1024;

    /// <summary>
    /// Shortest time between two step updates of one run forwarded to hub clients (default 100 ms, so
    /// at most ten a second; 0 forwards every step). A fast run on a small model reports tens of
    /// steps a second and sending each to every connection costs the trainer's CPU; the step held
    /// back last is forwarded before the run's next other update, so a client always sees the last
    /// step of each epoch, and every step stays readable from <c>/api/runs/{id}/metrics</c>.
    /// </summary>
    public TimeSpan HubStepInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Throws when a value is out of range, naming it.</summary>
    public void Validate()
    {
        if (StepBacklog < 1)
            throw new InvalidOperationException($"{Section}:{nameof(StepBacklog)} must be at least 1, got {StepBacklog}");
        if (EventBacklog < 1)
            throw new InvalidOperationException($"{Section}:{nameof(EventBacklog)} must be at least 1, got {EventBacklog}");
        if (HubStepInterval < TimeSpan.Zero || HubStepInterval > TimeSpan.FromMinutes(1))
            throw new InvalidOperationException($"{Section}:{nameof(HubStepInterval)} must be between 00:00:00 and 00:01:00, got {HubStepInterval}");
    }
}
