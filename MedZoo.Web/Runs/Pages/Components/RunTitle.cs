using System.Globalization;

namespace MedZoo.Web.Runs.Pages.Components;

/// <summary>
/// The browser tab's title on a run's page: the run's state first, so a tab left in the background tells whether
/// the run is still training, at which epoch, or how it ended ("▶ epoch 3/10 · my run · MedZoo", "✓ completed ·
/// my run · MedZoo", "✗ failed · …").
/// </summary>
public static class RunTitle
{
    /// <summary>The title for <paramref name="run"/> as it is now.</summary>
    public static string For(RunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return $"{State(run)} · {run.Name} · MedZoo";
    }

    /// <summary>The state part: a symbol and a few words.</summary>
    public static string State(RunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var epoch = string.Create(CultureInfo.InvariantCulture, $"epoch {run.CurrentEpoch}/{run.Epochs}");
        return run.Status switch
        {
            RunStatus.Queued => "⏳ queued",
            RunStatus.Running => "▶ " + epoch,
            RunStatus.Paused => "⏸ paused, " + epoch,
            RunStatus.Completed => "✓ completed",
            RunStatus.EarlyStopped => "✓ stopped early",
            RunStatus.Stopped => "■ stopped",
            RunStatus.Failed => "✗ failed",
            RunStatus.Interrupted => "⚠ interrupted",
            _ => run.Status.ToString().ToLowerInvariant(),
        };
    }
}
