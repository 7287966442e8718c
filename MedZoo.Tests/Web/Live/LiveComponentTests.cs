using System.Globalization;
using Bunit;
using MedZoo.Engine.Training;
using MedZoo.Tests.Web.Components;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Components.Pages.Home;
using MedZoo.Web.Live;
using MedZoo.Web.Runs;
using Microsoft.Extensions.DependencyInjection;

namespace MedZoo.Tests.Web.Live;

public sealed class LiveComponentTests : ComponentTestContext
{
    /// <summary>A live component that counts what the base does for it.</summary>
    private sealed class Probe : LiveComponent
    {
        public static int Subscribed, Unsubscribed, LiveRenders;
        public static Action? Request;

        protected override TimeSpan LiveInterval => TimeSpan.FromMilliseconds(20);

        protected override IEnumerable<IDisposable> Subscribe()
        {
            Interlocked.Increment(ref Subscribed);
            Request = RequestRender;
            yield return new Undo(() => Interlocked.Increment(ref Unsubscribed));
        }

        protected override void OnLiveRender() => Interlocked.Increment(ref LiveRenders);

        protected override void BuildRenderTree(Microsoft.AspNetCore.Components.Rendering.RenderTreeBuilder builder) =>
            builder.AddContent(0, $"renders {LiveRenders}");

        private sealed class Undo(Action undo) : IDisposable
        {
            public void Dispose() => undo();
        }
    }

    [Fact]
    public void LiveComponent_Lifecycle_SubscribesAfterFirstRenderRendersOnRequestAndUnsubscribesOnDispose()
    {
        Probe.Subscribed = Probe.Unsubscribed = Probe.LiveRenders = 0;
        var page = Context.Render<Probe>();
        Assert.Equal(1, Probe.Subscribed);
        page.Render(); // a later render does not subscribe again
        Assert.Equal(1, Probe.Subscribed);

        Probe.Request!();
        page.WaitForAssertion(() => Assert.Equal("renders 1", page.Markup), Waits.Timeout);
        Probe.Request!();
        page.WaitForAssertion(() => Assert.Equal("renders 2", page.Markup), Waits.Timeout);

        page.Instance.Dispose();
        Assert.Equal(1, Probe.Unsubscribed);
        Probe.Request!(); // after dispose: nothing happens
        page.Instance.Dispose();
        Assert.Equal(1, Probe.Unsubscribed);
    }

    /// <summary>Counts list reads of the real store.</summary>
    private sealed class CountingRuns(IRunStore inner) : IRunStore
    {
        public int Lists;

        public RunRecord? Get(string id) => inner.Get(id);
        public IReadOnlyList<RunRecord> List()
        {
            Interlocked.Increment(ref Lists);
            return inner.List();
        }
        public IReadOnlyList<RunRecord> WithStatus(params RunStatus[] statuses) => inner.WithStatus(statuses);
        public void Insert(RunRecord run) => inner.Insert(run);
        public RunRecord? Update(string id, Action<RunRecord> change) => inner.Update(id, change);
        public void WriteBatch(Action write) => inner.WriteBatch(write);
        public bool Delete(string id) => inner.Delete(id);
        public IReadOnlyList<string> MarkInterrupted(string reason, DateTime utcNow) => inner.MarkInterrupted(reason, utcNow);
    }

    [Fact]
    public async Task Home_TrainingSteps_UpdateTheActiveRunWithoutReadingTheListAndAStatusChangeReadsItOnce()
    {
        await using var f = new StoreFixture();
        f.AddRun("r1");
        f.Runs.Update("r1", r => { r.Epochs = 3; r.StepsPerEpoch = 10; });
        var runs = new CountingRuns(f.Runs);
        Context.Services.AddSingleton<IRunStore>(runs);
        Context.Services.AddSingleton(f.Notifier);
        Context.Services.AddSingleton(TimeProvider.System);

        var page = Context.Render<Home>();
        for (var i = 1; i <= 5; i++)
        {
            var loss = 0.1 * i + 0.0123;
            f.Notifier.Publish(new StepCompleted
            {
                RunId = "r1", Epoch = 1, Step = i, StepsPerEpoch = 10, GlobalStep = i, Loss = loss, LearningRate = 0.1,
            });
            page.WaitForAssertion(() => Assert.Contains("loss " + loss.ToString("0.####", CultureInfo.InvariantCulture), page.Markup), Waits.Timeout);
        }
        // The first read, and one catch-up read when the page went live; none for the steps themselves.
        Assert.InRange(runs.Lists, 1, 2);
        var before = runs.Lists;

        f.Runs.Update("r1", r => { r.Status = RunStatus.Stopped; r.FinishedAt = DateTime.UtcNow; });
        f.Notifier.PublishStatus("r1", RunStatus.Stopped);
        page.WaitForAssertion(() => Assert.Equal(before + 1, runs.Lists), Waits.Timeout);
        Assert.Equal(before + 1, runs.Lists);
    }
}
