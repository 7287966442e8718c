using System.Collections.Concurrent;
using MedZoo.Engine.Training;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Live;
using MedZoo.Web.Runs.Live;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MedZoo.Tests.Web.Runs.Live;

public sealed class HubBridgeTests
{
    private static StepCompleted Step(string run, long i) => new()
    {
        RunId = run, Epoch = (int)((i - 1) / 100) + 1, Step = (int)((i - 1) % 100) + 1, StepsPerEpoch = 100, GlobalStep = i, Loss = 1.0 / i, LearningRate = 0.1,
    };

    private static EpochCompleted Epoch(string run, int e) => new()
    {
        RunId = run, Epoch = e, Epochs = 1000, TrainLoss = 1.0 / e, LearningRate = 0.1, Seconds = 1,
    };

    // Every step forwarded unless a test asks for thinning, so the queue tests see each one.
    private static HubBridge Bridge(StoreFixture f, FakeHub hub, int stepBacklog = 64, int eventBacklog = 1024, TimeSpan? stepInterval = null) =>
        new(f.Notifier, hub, Options.Create(new LiveOptions
        {
            StepBacklog = stepBacklog, EventBacklog = eventBacklog, HubStepInterval = stepInterval ?? TimeSpan.Zero,
        }), NullLogger<HubBridge>.Instance);

    [Fact]
    public async Task Route_StepsFasterThanTheInterval_FirstAndLastOfEachEpochReachClientsInOrder()
    {
        await using var f = new StoreFixture();
        var hub = new FakeHub();
        var a = hub.Add("a");
        var b = hub.Add("b");
        // An interval no test outlives: after the first step, every step is held until the next other update.
        using var bridge = Bridge(f, hub, stepInterval: TimeSpan.FromMinutes(1));
        bridge.Watch("a", "r", () => { });
        bridge.Watch("b", "r", () => { });
        long seq = 0;
        for (var e = 1; e <= 3; e++)
        {
            for (var s = 1; s <= 100; s++) bridge.Route(new RunUpdate(++seq, Step("r", (e - 1) * 100 + s)));
            bridge.Route(new RunUpdate(++seq, Epoch("r", e)));
        }
        bridge.Route(new RunUpdate(++seq, new RunFinished { RunId = "r", Outcome = RunOutcome.Completed, EpochsCompleted = 3 }));

        foreach (var c in new[] { a, b })
        {
            await Waits.For(c.Finished.Task, $"RunFinished on {c.Id}");
            Assert.Equal([1L, 100, 200, 300], c.Steps);
            Assert.Equal([1, 2, 3], c.Epochs);
            Assert.Equal(c.Seqs.Order(), c.Seqs);
        }
        Assert.Equal(300 - 4, bridge.ThinnedSteps);
        Assert.Equal(0, bridge.DroppedSteps);
    }

    [Fact]
    public async Task Route_StepsSlowerThanTheInterval_EveryStepIsForwarded()
    {
        await using var f = new StoreFixture();
        var hub = new FakeHub();
        var a = hub.Add("a");
        using var bridge = Bridge(f, hub, stepInterval: TimeSpan.FromMilliseconds(1));
        bridge.Watch("a", "r", () => { });
        for (var i = 1; i <= 5; i++)
        {
            bridge.Route(new RunUpdate(i, Step("r", i)));
            Thread.Sleep(5); // time passing is what this test is about: each step comes after the interval
        }
        bridge.Route(new RunUpdate(6, new RunFinished { RunId = "r", Outcome = RunOutcome.Completed, EpochsCompleted = 0 }));
        await Waits.For(a.Finished.Task, "RunFinished");
        Assert.Equal([1L, 2, 3, 4, 5], a.Steps);
        Assert.Equal(0, bridge.ThinnedSteps);
    }

    [Fact]
    public async Task Route_TwoRunsThinned_EachKeepsItsOwnLastStep()
    {
        await using var f = new StoreFixture();
        var hub = new FakeHub();
        var a = hub.Add("a");
        using var bridge = Bridge(f, hub, stepInterval: TimeSpan.FromMinutes(1));
        bridge.Watch("a", "r1", () => { });
        bridge.Watch("a", "r2", () => { });
        bridge.Route(new RunUpdate(1, Step("r1", 1)));
        bridge.Route(new RunUpdate(1, Step("r2", 1)));
        bridge.Route(new RunUpdate(2, Step("r1", 2)));
        bridge.Route(new RunUpdate(2, Step("r2", 2)));
        bridge.Route(new RunUpdate(3, Step("r2", 3)));
        // r2 finishing releases only r2's held step; r1's stays held until r1's own next update.
        bridge.Route(new RunUpdate(4, new RunFinished { RunId = "r2", Outcome = RunOutcome.Completed, EpochsCompleted = 0 }));
        await Waits.For(a.Finished.Task, "RunFinished of r2");
        Assert.Equal([1L, 1, 3], a.Steps);
    }

    [Fact]
    public async Task Publish_StalledConnection_OthersGetEverythingInOrderAndItGetsEpochsAndLatestSteps()
    {
        await using var f = new StoreFixture();
        var hub = new FakeHub();
        var stuck = hub.Add("stuck", blocked: true);
        var healthy = new[] { hub.Add("a"), hub.Add("b") };
        using var bridge = Bridge(f, hub);
        await bridge.StartAsync(CancellationToken.None);
        foreach (var id in new[] { "stuck", "a", "b" }) bridge.Watch(id, "r", () => hub.Aborted.Add(id));

        f.Notifier.Publish(Step("r", 1));
        await Waits.For(stuck.FirstSend.Task, "the first send to the stalled connection");
        for (var e = 1; e <= 10; e++)
        {
            for (var s = e == 1 ? 2 : 1; s <= 100; s++) f.Notifier.Publish(Step("r", (e - 1) * 100 + s));
            f.Notifier.Publish(Epoch("r", e));
        }
        f.Notifier.Publish(new RunFinished { RunId = "r", Outcome = RunOutcome.Completed, EpochsCompleted = 10 });

        foreach (var c in healthy)
        {
            await Waits.For(c.Finished.Task, $"RunFinished on healthy connection {c.Id}");
            // Published faster than any client reads, so healthy ones may skip steps too, but never an epoch or the newest step.
            Assert.Equal(Enumerable.Range(1, 10), c.Epochs);
            Assert.Equal(1000, c.Steps[^1]);
            Assert.Equal(c.Steps.Distinct().Order(), c.Steps);
            Assert.Equal(c.Seqs.Order(), c.Seqs);
        }
        // The stalled connection still sits on its first send; behind it wait every epoch, the finish and only the newest steps.
        Assert.Single(stuck.Seqs);
        Assert.Equal(64 + 10 + 1, bridge.Backlog("stuck"));
        Assert.True(bridge.DroppedSteps >= 1000 - 1 - 64, $"dropped {bridge.DroppedSteps} steps");
        Assert.Equal(0, f.Notifier.DroppedForSubscribers);

        stuck.Release();
        await Waits.For(stuck.Finished.Task, "RunFinished on the connection once it reads again");
        Assert.Equal(Enumerable.Range(1, 10), stuck.Epochs);
        Assert.Equal(new long[] { 1 }.Concat(Enumerable.Range(937, 64).Select(i => (long)i)), stuck.Steps);
        Assert.Equal(stuck.Seqs.Order(), stuck.Seqs);
        Assert.Empty(hub.Aborted);
    }

    [Fact]
    public async Task Route_StalledConnection20000Steps_BacklogStaysAtItsLimit()
    {
        await using var f = new StoreFixture();
        var hub = new FakeHub();
        var stuck = hub.Add("stuck", blocked: true);
        using var bridge = Bridge(f, hub, stepBacklog: 32);
        bridge.Watch("stuck", "r", () => hub.Aborted.Add("stuck"));
        bridge.Route(new RunUpdate(1, Step("r", 1)));
        await Waits.For(stuck.FirstSend.Task, "the first send to the stalled connection");
        var max = 0;
        for (var i = 2; i <= 20_000; i++)
        {
            bridge.Route(new RunUpdate(i, Step("r", i)));
            max = Math.Max(max, bridge.Backlog("stuck"));
        }
        Assert.Equal(32, max);
        Assert.Equal(20_000 - 1 - 32, bridge.DroppedSteps);
        Assert.Empty(hub.Aborted);
        stuck.Release();
    }

    [Fact]
    public async Task Route_EventBacklogExceeded_DisconnectsOnlyThatConnection()
    {
        await using var f = new StoreFixture();
        var hub = new FakeHub();
        var stuck = hub.Add("stuck", blocked: true);
        var healthy = hub.Add("a");
        using var bridge = Bridge(f, hub, eventBacklog: 8);
        bridge.Watch("stuck", "r", () => hub.Aborted.Add("stuck"));
        bridge.Watch("a", "r", () => hub.Aborted.Add("a"));

        bridge.Route(new RunUpdate(1, Epoch("r", 1)));
        await Waits.For(stuck.FirstSend.Task, "the first send to the stalled connection");
        Assert.True(await healthy.EpochSignal.WaitAsync(Waits.Timeout), "epoch 1 on the healthy connection");
        for (var e = 2; e <= 20; e++)
        {
            bridge.Route(new RunUpdate(e, Epoch("r", e)));
            // The healthy client keeps up (as a real one would at training pace); only the stalled one falls behind.
            Assert.True(await healthy.EpochSignal.WaitAsync(Waits.Timeout), $"epoch {e} on the healthy connection");
        }
        bridge.Route(new RunUpdate(21, new RunFinished { RunId = "r", Outcome = RunOutcome.Completed, EpochsCompleted = 20 }));

        await Waits.For(healthy.Finished.Task, "RunFinished on the healthy connection");
        Assert.Equal(Enumerable.Range(1, 20), healthy.Epochs);
        // One epoch in flight, eight queued: the tenth overflowed the backlog.
        Assert.Equal(["stuck"], hub.Aborted);
        Assert.Equal(1, bridge.Disconnected);
        Assert.Equal(0, bridge.Backlog("stuck"));
        stuck.Release();
        Assert.Equal([1], stuck.Epochs);
    }

    [Fact]
    public async Task Unwatch_OneOfTwoRuns_OnlyTheOtherIsForwardedAndForgetStopsAll()
    {
        await using var f = new StoreFixture();
        var hub = new FakeHub();
        var c = hub.Add("c");
        using var bridge = Bridge(f, hub);
        bridge.Watch("c", "r1", () => { });
        bridge.Watch("c", "r2", () => { });
        bridge.Unwatch("c", "r1");
        bridge.Route(new RunUpdate(1, Epoch("r1", 1)));
        bridge.Route(new RunUpdate(1, new RunFinished { RunId = "r2", Outcome = RunOutcome.Completed, EpochsCompleted = 0 }));
        await Waits.For(c.Finished.Task, "RunFinished of the run still watched");
        Assert.Empty(c.Epochs);

        bridge.Forget("c");
        bridge.Route(new RunUpdate(2, Epoch("r2", 1)));
        Assert.Equal(0, bridge.Backlog("c"));
        Assert.Empty(c.Epochs);
    }

    [Theory]
    [InlineData(0, 10, "StepBacklog")]
    [InlineData(10, 0, "EventBacklog")]
    public void Validate_NonPositiveBacklog_NamesTheSetting(int steps, int events, string field)
    {
        var e = Assert.Throws<InvalidOperationException>(() => new LiveOptions { StepBacklog = steps, EventBacklog = events }.Validate());
        Assert.Contains("MedZoo:Live:" + field, e.Message, StringComparison.Ordinal);
    }

    /// <summary>A hub context whose clients record what they receive; a blocked client's sends never complete until released.</summary>
    private sealed class FakeHub : IHubContext<TrainingHub, ITrainingClient>, IHubClients<ITrainingClient>
    {
        private readonly ConcurrentDictionary<string, FakeClient> _clients = new();

        public ConcurrentBag<string> Aborted { get; } = [];

        public FakeClient Add(string id, bool blocked = false) => _clients[id] = new FakeClient(id, blocked);

        public IHubClients<ITrainingClient> Clients => this;
        public IGroupManager Groups => throw new NotSupportedException("the bridge sends per connection, not to groups");
        public ITrainingClient Client(string connectionId) => _clients[connectionId];
        public ITrainingClient All => throw new NotSupportedException();
        public ITrainingClient AllExcept(IReadOnlyList<string> excludedConnectionIds) => throw new NotSupportedException();
        ITrainingClient IHubClients<ITrainingClient>.Clients(IReadOnlyList<string> connectionIds) => throw new NotSupportedException();
        public ITrainingClient Group(string groupName) => throw new NotSupportedException("the bridge sends per connection, not to groups");
        public ITrainingClient GroupExcept(string groupName, IReadOnlyList<string> excludedConnectionIds) => throw new NotSupportedException();
        ITrainingClient IHubClients<ITrainingClient>.Groups(IReadOnlyList<string> groupNames) => throw new NotSupportedException();
        public ITrainingClient User(string userId) => throw new NotSupportedException();
        public ITrainingClient Users(IReadOnlyList<string> userIds) => throw new NotSupportedException();
    }

    private sealed class FakeClient(string id, bool blocked) : ITrainingClient
    {
        private readonly TaskCompletionSource _released = NewReleased(blocked);
        private readonly Lock _gate = new();
        private readonly List<long> _seqs = [], _steps = [];
        private readonly List<int> _epochs = [];

        public string Id => id;
        public TaskCompletionSource<bool> Finished { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public SemaphoreSlim EpochSignal { get; } = new(0);
        public TaskCompletionSource<bool> FirstSend { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public IReadOnlyList<long> Seqs { get { lock (_gate) return [.. _seqs]; } }
        public IReadOnlyList<long> Steps { get { lock (_gate) return [.. _steps]; } }
        public IReadOnlyList<int> Epochs { get { lock (_gate) return [.. _epochs]; } }

        public void Release() => _released.TrySetResult();

        private static TaskCompletionSource NewReleased(bool blocked)
        {
            var t = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!blocked) t.SetResult();
            return t;
        }

        private Task Got(long seq, Action<FakeClient>? record = null)
        {
            lock (_gate)
            {
                _seqs.Add(seq);
                record?.Invoke(this);
            }
            FirstSend.TrySetResult(true);
            return _released.Task;
        }

        public Task RunStarted(long seq, RunStarted e) => Got(seq);
        public Task StepCompleted(long seq, StepCompleted e) => Got(seq, c => c._steps.Add(e.GlobalStep));
        public Task EpochCompleted(long seq, EpochCompleted e)
        {
            var t = Got(seq, c => c._epochs.Add(e.Epoch));
            EpochSignal.Release();
            return t;
        }
        public Task SlicePreview(long seq, SlicePreview e) => Got(seq);
        public Task CheckpointSaved(long seq, CheckpointSaved e) => Got(seq);
        public Task RunStateChanged(long seq, RunStateChanged e) => Got(seq);
        public Task RunLog(long seq, RunLog e) => Got(seq);

        public Task RunFinished(long seq, RunFinished e)
        {
            var t = Got(seq);
            return t.ContinueWith(_ => Finished.TrySetResult(true), TaskScheduler.Default);
        }

        public Task RunStatusChanged(RunStatusChanged e) => Got(0);
    }
}
