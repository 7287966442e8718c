using System.Collections.Concurrent;
using System.Diagnostics;
using MedZoo.Engine.Training;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Live;
using Xunit.Abstractions;

namespace MedZoo.Tests.Web.Runs.Live;

public sealed class RunNotifierTests(ITestOutputHelper output)
{
    private static StepCompleted Step(string run, long i) => new()
    {
        RunId = run, Epoch = 1, Step = (int)i, StepsPerEpoch = 1_000_000, GlobalStep = i, Loss = 1.0 / i, LearningRate = 0.1,
    };

    [Fact]
    public async Task Subscribe_Run_ReceivesItsUpdatesInOrderAndNotOthers()
    {
        await using var f = new StoreFixture();
        var got = new List<long>();
        var done = new TaskCompletionSource();
        using var sub = f.Notifier.Subscribe("a", u =>
        {
            got.Add(((StepCompleted)u.Event).GlobalStep);
            if (got.Count == 5) done.TrySetResult();
            return ValueTask.CompletedTask;
        });
        for (var i = 1; i <= 5; i++)
        {
            f.Notifier.Publish(Step("a", i));
            f.Notifier.Publish(Step("b", i));
        }
        await Waits.For(done.Task.ContinueWith(_ => 0), "five updates");
        Assert.Equal([1, 2, 3, 4, 5], got);
    }

    private static RunLog Log(string run, string text) => new() { RunId = run, Level = RunLogLevel.Info, Message = text };

    private static RunStarted Started(string run) => new()
    {
        RunId = run, Model = "unet", Dataset = "d", Device = "cpu", ClassNames = ["bg", "fg"], Modalities = ["ct"], Epochs = 3, StepsPerEpoch = 1, Parameters = 1,
    };

    [Fact]
    public async Task PublishForwarded_WorkersUpdates_DeliveredOnceInOrderAndNeverRecordedHere()
    {
        await using var f = new StoreFixture();
        f.AddRun("r");
        var got = new ConcurrentQueue<RunUpdate>();
        var status = new TaskCompletionSource();
        using var sub = f.Notifier.Subscribe("r", u =>
        {
            got.Enqueue(u);
            if (u.Event is RunStatusChanged) status.TrySetResult();
            return ValueTask.CompletedTask;
        });
        f.Notifier.PublishForwarded(new RunUpdate(1, Log("r", "one")));
        f.Notifier.PublishForwarded(new RunUpdate(2, Log("r", "two")));
        f.Notifier.PublishForwarded(new RunUpdate(2, Log("r", "two again")));
        f.Notifier.PublishForwarded(new RunUpdate(1, Log("r", "one again")));
        f.Notifier.PublishForwarded(new RunUpdate(3, Log("r", "three")));
        f.Notifier.PublishForwarded(new RunUpdate(0, new RunStatusChanged { RunId = "r", Status = RunStatus.Completed }));
        await Waits.For(status.Task.ContinueWith(_ => 0), "the forwarded status");

        Assert.Equal([1L, 2, 3, 0], got.Select(u => u.Seq));
        Assert.All(got, u => Assert.True(u.FromCluster));
        await f.Recorder.FlushAsync();
        Assert.Empty(f.Runs.Events("r"));
        // The same event published here is recorded: the store above was empty because the updates were forwarded.
        f.Notifier.Publish(Log("r", "local"));
        await f.Recorder.FlushAsync();
        Assert.Equal("local", Assert.Single(f.Runs.Events("r")).Message);
    }

    [Fact]
    public async Task PublishForwarded_RunStartedBelowTheLastNumber_BeginsANewSessionAndLateJoinersSkipTheOldOne()
    {
        await using var f = new StoreFixture();
        for (var i = 1; i <= 5; i++) f.Notifier.PublishForwarded(new RunUpdate(i, Log("r", $"first worker {i}")));
        // The first worker vanished after recording 2: the run resumes elsewhere and numbers on from 3.
        f.Notifier.PublishForwarded(new RunUpdate(3, Started("r")));
        f.Notifier.PublishForwarded(new RunUpdate(4, Log("r", "second worker 4")));
        var got = new ConcurrentQueue<RunUpdate>();
        var four = new TaskCompletionSource();
        using var sub = f.Notifier.Subscribe("r", u =>
        {
            got.Enqueue(u);
            if (u.Seq == 4) four.TrySetResult();
            return ValueTask.CompletedTask;
        });
        await Waits.For(four.Task.ContinueWith(_ => 0), "the replayed tail");
        Assert.Equal([1L, 2, 3, 4], got.Select(u => u.Seq));
        Assert.IsType<RunStarted>(got.ElementAt(2).Event);
        Assert.Equal("second worker 4", ((RunLog)got.ElementAt(3).Event).Message);
    }

    [Fact]
    public async Task Subscribe_MidRun_HistoryPlusLiveHasEveryStepOnce()
    {
        await using var f = new StoreFixture();
        var run = f.AddRun("r1");
        for (var i = 1; i <= 40; i++) f.Notifier.Publish(Step("r1", i));
        // The recorder may not have written all 40 yet: that is the gap the replayed tail covers.
        var view = RunView.Load(f.Runs, f.Runs.Get("r1")!);
        var pending = new ConcurrentQueue<RunUpdate>();
        var seen60 = new TaskCompletionSource();
        using var sub = f.Notifier.Subscribe("r1", u =>
        {
            pending.Enqueue(u);
            if (u.Seq == 60) seen60.TrySetResult();
            return ValueTask.CompletedTask;
        });
        for (var i = 41; i <= 60; i++) f.Notifier.Publish(Step("r1", i));
        await Waits.For(seen60.Task.ContinueWith(_ => 0), "live update 60");
        foreach (var u in pending) view.Apply(u);
        Assert.Equal(Enumerable.Range(1, 60).Select(i => (long)i), view.Steps.Select(s => s.GlobalStep));
    }

    [Fact]
    public async Task Publish_StuckSubscribers_NeverBlocksAndDropsTheirOldestUpdates()
    {
        await using var f = new StoreFixture();
        var never = new TaskCompletionSource();
        var subs = Enumerable.Range(0, 20).Select(_ => f.Notifier.Subscribe("r1", async _ => await never.Task, capacity: 16)).ToList();
        var sw = Stopwatch.StartNew();
        for (var i = 1; i <= 5000; i++) f.Notifier.Publish(Step("r1", i));
        sw.Stop();
        output.WriteLine($"5000 publishes with 20 stuck subscribers: {sw.Elapsed.TotalMilliseconds:0.0} ms; dropped {f.Notifier.DroppedForSubscribers}");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(2), $"publishing took {sw.Elapsed}");
        Assert.True(f.Notifier.DroppedForSubscribers >= 20 * (5000 - 17));
        subs.ForEach(s => s.Dispose());
        never.TrySetResult();
    }

    /// <summary>
    /// Measures what the issue asks: training throughput with and without stuck viewers, and the
    /// delay from an event to a healthy viewer. Steps do a fixed amount of CPU work (as a trainer's
    /// batch would); the figures are printed for the report.
    /// </summary>
    [Fact]
    public async Task Training_WithStuckViewers_KeepsThroughputAndLiveLatencyUnderASecond()
    {
        await using var f = new StoreFixture();
        var executor = new ScriptedRunExecutor { StepWork = () => BurnCpu(TimeSpan.FromMilliseconds(2)) };
        var json = ScriptedRunExecutor.Json(epochs: 4, stepsPerEpoch: 100);

        f.AddRun("warm");
        RunEventRecorderTests.RunScripted(f, "warm", json, executor);
        f.AddRun("base");
        var baseline = await TimeOnOwnThread(() => RunEventRecorderTests.RunScripted(f, "base", json, executor));

        f.AddRun("stuck");
        var never = new TaskCompletionSource();
        var stuck = Enumerable.Range(0, 50).Select(_ => f.Notifier.Subscribe("stuck", async _ => await never.Task)).ToList();
        var latencies = new ConcurrentBag<double>();
        using var healthy = f.Notifier.Subscribe("stuck", u =>
        {
            latencies.Add((DateTimeOffset.UtcNow - u.Event.Time).TotalMilliseconds);
            return ValueTask.CompletedTask;
        }, capacity: 10_000);
        var withStuck = await TimeOnOwnThread(() => RunEventRecorderTests.RunScripted(f, "stuck", json, executor));
        await f.Recorder.FlushAsync();

        var sorted = latencies.Order().ToList();
        var p99 = sorted[(int)(sorted.Count * 0.99)];
        output.WriteLine($"400 steps: baseline {400 / baseline.TotalSeconds:0} steps/s, with 50 stuck viewers {400 / withStuck.TotalSeconds:0} steps/s " +
                         $"(ratio {withStuck / baseline:0.00}); healthy viewer latency median {sorted[sorted.Count / 2]:0.00} ms, p99 {p99:0.00} ms, max {sorted[^1]:0.00} ms; dropped {f.Notifier.DroppedForSubscribers}");
        Assert.True(withStuck < baseline * 1.5 + TimeSpan.FromMilliseconds(200), $"baseline {baseline}, with stuck viewers {withStuck}");
        Assert.True(p99 < 1000, $"p99 latency {p99} ms");
        Assert.Equal(RunStatus.Completed, f.Runs.Get("stuck")!.Status);
        stuck.ForEach(s => s.Dispose());
        never.TrySetResult();
    }

    // Like the run worker: training on a dedicated thread, so it does not take a thread-pool thread from the viewers.
    private static Task<TimeSpan> TimeOnOwnThread(Action a)
    {
        var done = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        new Thread(() =>
        {
            var sw = Stopwatch.StartNew();
            try
            {
                a();
                done.SetResult(sw.Elapsed);
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        }) { IsBackground = true }.Start();
        return done.Task;
    }

    private static void BurnCpu(TimeSpan t)
    {
        var sw = Stopwatch.StartNew();
        double x = 1;
        while (sw.Elapsed < t) x = Math.Sqrt(x + 1);
        GC.KeepAlive(x);
    }
}
