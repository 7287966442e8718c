using MedZoo.Web.Runs.Live;


namespace MedZoo.Web.Runs.Pages.Components;

/// <summary>
/// What a running session does before its first step, when no step, chart point or preview can
/// show that it is alive. The trainer loads the dataset and builds the model before it publishes
/// <c>RunStarted</c>, then runs a first step that on the CPU checks the layout of every new
/// convolution shape; on a 2-core machine the two take ~10 s, and the page looked frozen.
/// </summary>
public static class RunPhase
{
    /// <summary>
    /// The phase of <paramref name="view"/>'s current session as text, or null once it trains
    /// (or when it is not running). Derived from what the view holds, so a page opened mid-phase
    /// shows the same as one that watched it begin: no "started" log line since the session began
    /// means loading; a "started" line with nothing after it but log lines means the first step
    /// (steps update the run's last activity without adding a log line).
    /// </summary>
    public static string? Of(RunView view)
    {
        var run = view.Run;
        if (run.Status != RunStatus.Running) return null;
        var events = view.Events;
        var started = -1;
        for (var i = events.Count - 1; i >= 0; i--)
        {
            if (events[i].Kind != "started") continue;
            if (run.SessionStartedAt is not { } session || events[i].Time >= session) started = i;
            break;
        }
        if (started < 0) return "Loading the dataset and building the model…";
        for (var i = started + 1; i < events.Count; i++)
            if (events[i].Kind != "log") return null;
        if (run.LastActivityAt is { } last && last > events[^1].Time) return null;
        return run.DeviceUsed is { } d && d.StartsWith("cpu", StringComparison.OrdinalIgnoreCase)
            ? "Running the first step (checking convolutions on first use)…"
            : "Running the first step…";
    }
}
