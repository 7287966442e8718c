namespace MedZoo.Tests.Web.Support;

/// <summary>Waiting for conditions without sleeping: a task that completes when an event arrives, with a timeout.</summary>
public static class Waits
{
    /// <summary>
    /// Default time a test waits for something that should happen in well under a second. Generous on
    /// purpose: on a 2-core machine running the whole suite in parallel, thread-pool continuations
    /// were seen to wait over 20 s (a run stayed Queued), so a short limit made correct code fail.
    /// </summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Awaits <paramref name="task"/> or fails with <paramref name="what"/> after the timeout.</summary>
    public static async Task<T> For<T>(Task<T> task, string what, TimeSpan? timeout = null)
    {
        try
        {
            return await task.WaitAsync(timeout ?? Timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"timed out waiting for {what}");
        }
    }
}
