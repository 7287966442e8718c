namespace MedZoo.Web.Live;

/// <summary>
/// Coalesces live updates into at most one render per <see cref="Interval"/> for a component.
/// <see cref="Request"/> never waits: it marks the view dirty and, if no render loop is running,
/// starts one that calls the component's <c>InvokeAsync</c> (on the circuit) and then waits the
/// interval. Updates arriving while a render is in flight are folded into the next one, so a slow
/// or disconnected circuit only gets fewer frames and never holds up the caller.
/// </summary>
public sealed class RenderThrottle : IDisposable
{
    private readonly Func<Func<Task>, Task> _invokeAsync;
    private readonly Action _render;
    private readonly CancellationTokenSource _disposed = new();
    private int _dirty;
    private int _running;

    /// <param name="invokeAsync">The component's InvokeAsync.</param>
    /// <param name="render">Runs on the circuit: apply pending updates, then StateHasChanged.</param>
    /// <param name="interval">Least time between two renders.</param>
    public RenderThrottle(Func<Func<Task>, Task> invokeAsync, Action render, TimeSpan interval)
    {
        _invokeAsync = invokeAsync;
        _render = render;
        Interval = interval;
    }

    /// <summary>Least time between two renders.</summary>
    public TimeSpan Interval { get; }

    /// <summary>Asks for a render soon; returns at once.</summary>
    public void Request()
    {
        Volatile.Write(ref _dirty, 1);
        if (_disposed.IsCancellationRequested || Interlocked.CompareExchange(ref _running, 1, 0) != 0) return;
        _ = LoopAsync();
    }

    private async Task LoopAsync()
    {
        var token = _disposed.Token;
        try
        {
            while (!token.IsCancellationRequested && Interlocked.Exchange(ref _dirty, 0) == 1)
            {
                await _invokeAsync(() =>
                {
                    _render();
                    return Task.CompletedTask;
                }).ConfigureAwait(false);
                await Task.Delay(Interval, token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
            // The circuit went away between the request and the render.
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
        // An update that arrived after the last check but before _running was cleared.
        if (!token.IsCancellationRequested && Volatile.Read(ref _dirty) == 1) Request();
    }

    public void Dispose()
    {
        _disposed.Cancel();
        _disposed.Dispose();
    }
}
