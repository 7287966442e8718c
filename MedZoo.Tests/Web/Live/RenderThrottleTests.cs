using MedZoo.Tests.Web.Support;
using MedZoo.Web.Live;

namespace MedZoo.Tests.Web.Live;

public sealed class RenderThrottleTests
{
    [Fact]
    public async Task Request_BurstWhileRenderInFlight_FoldsIntoOneMoreRenderAndNeverWaits()
    {
        var renders = 0;
        var firstRenderEntered = new TaskCompletionSource();
        var releaseFirstRender = new TaskCompletionSource();
        var secondRender = new TaskCompletionSource();
        // Stands in for a circuit whose dispatcher is busy: the first render blocks until released.
        async Task Invoke(Func<Task> work)
        {
            if (Interlocked.Increment(ref renders) == 1)
            {
                firstRenderEntered.SetResult();
                await releaseFirstRender.Task;
            }
            await work();
            if (renders == 2) secondRender.TrySetResult();
        }
        using var throttle = new RenderThrottle(Invoke, () => { }, TimeSpan.FromMilliseconds(1));
        throttle.Request();
        await Waits.For(firstRenderEntered.Task.ContinueWith(_ => 0), "the first render");
        for (var i = 0; i < 1000; i++) throttle.Request(); // returns at once although the render is stuck
        releaseFirstRender.SetResult();
        await Waits.For(secondRender.Task.ContinueWith(_ => 0), "the folded render");
        Assert.Equal(2, renders);
    }

    [Fact]
    public async Task Request_AfterDispose_DoesNothing()
    {
        var renders = 0;
        var throttle = new RenderThrottle(async w => { renders++; await w(); }, () => { }, TimeSpan.FromMilliseconds(1));
        throttle.Dispose();
        throttle.Request();
        await Task.Yield();
        Assert.Equal(0, renders);
    }
}
