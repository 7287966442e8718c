namespace MedZoo.Engine.Training;

/// <summary>
/// Pause, resume and stop for a running trainer, safe to call from any thread (a browser circuit, a
/// SignalR hub, Ctrl+C). The trainer checks it between batches: a stop takes effect within one batch,
/// a pause holds the training thread (not the caller) until resumed or stopped.
/// </summary>
public sealed class TrainingControl : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly ManualResetEventSlim _running = new(initialState: true);

    /// <summary>Cancelled when a stop is requested.</summary>
    public CancellationToken StopToken => _stop.Token;

    /// <summary>True between <see cref="Pause"/> and <see cref="Resume"/>.</summary>
    public bool IsPaused => !_running.IsSet;

    /// <summary>True once <see cref="Stop()"/> was called.</summary>
    public bool IsStopRequested => _stop.IsCancellationRequested;

    /// <summary>Asks the trainer to pause after the current batch.</summary>
    public void Pause() => _running.Reset();

    /// <summary>Lets a paused trainer continue.</summary>
    public void Resume() => _running.Set();

    /// <summary>Why the stop was asked for, when the caller said (e.g. a sweep's successive halving); null for a plain stop.</summary>
    public string? StopReason { get; private set; }

    /// <summary>Asks the trainer to stop after the current batch (also releases a pause).</summary>
    public void Stop() => Stop(null);

    /// <summary>
    /// Asks the trainer to stop after the current batch, saying why: the run ends with
    /// <paramref name="reason"/> as its reason. The first reason given wins.
    /// </summary>
    public void Stop(string? reason)
    {
        if (reason is not null && !_stop.IsCancellationRequested) StopReason ??= reason;
        _stop.Cancel();
        _running.Set();
    }

    /// <summary>
    /// Called by the trainer between batches: returns at once when running; while paused, blocks the
    /// training thread until resumed or stopped. Returns true if the caller should stop.
    /// </summary>
    public bool WaitWhilePaused(CancellationToken external = default)
    {
        if (_running.IsSet) return _stop.IsCancellationRequested || external.IsCancellationRequested;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, external);
        try { _running.Wait(linked.Token); }
        catch (OperationCanceledException) { return true; }
        return _stop.IsCancellationRequested || external.IsCancellationRequested;
    }

    public void Dispose()
    {
        _stop.Dispose();
        _running.Dispose();
    }
}
