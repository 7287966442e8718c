using MedZoo.Engine;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Accounts;
using MedZoo.Web.Runs;
using Microsoft.Extensions.DependencyInjection;
using static MedZoo.Tests.Web.Support.AppTestHelpers;

namespace MedZoo.Tests.Web.Runs;

public sealed class RunWorkerTests
{
    [Fact]
    public async Task Start_ScriptedRun_CompletesWithResultsAndCheckpoint()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor());
        app.Start();
        var run = app.Service().Start(Admin, "first", ScriptedRunExecutor.Json(epochs: 2, stepsPerEpoch: 3));
        Assert.Equal(RunStatus.Queued, run.Status);
        var done = await app.WaitForStatusAsync(run.Id, RunStatus.Completed);
        Assert.Equal(2, done.EpochsCompleted);
        Assert.Equal(0.7, done.BestMeanDice!.Value, 6);
        Assert.Equal("admin", done.CreatedBy);
        Assert.NotNull(done.FinishedAt);
        Assert.Null(done.SessionStartedAt);
        Assert.Equal(6, app.Repository().Metrics(run.Id, MetricKind.Step).Count);
        Assert.Equal(2, app.Checkpoints().List(run.Id).Single().Epoch);
    }

    [Fact]
    public async Task Start_ExecutorThrows_RecordsFailedWithReasonAndKeepsServing()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor());
        var address = app.Start();
        var bad = app.Service().Start(Admin, "bad", ScriptedRunExecutor.Json(failAtStep: 2));
        var failed = await app.WaitForStatusAsync(bad.Id, RunStatus.Failed);
        Assert.Equal("scripted failure at step 2", failed.Reason);
        Assert.Contains(app.Repository().Events(bad.Id), e => e.Level == EventLevel.Error && e.Message.Contains("scripted failure", StringComparison.Ordinal));

        var good = app.Service().Start(Admin, "good", ScriptedRunExecutor.Json(epochs: 1));
        await app.WaitForStatusAsync(good.Id, RunStatus.Completed);
        using var http = new HttpClient { BaseAddress = address };
        Assert.True((await http.GetAsync("/account/signin")).IsSuccessStatusCode);
    }

    [Fact]
    public void Start_InvalidConfiguration_ThrowsNamingTheField()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor());
        app.Start();
        var e = Assert.Throws<InvalidOptionException>(() => app.Service().Start(Admin, "x", ScriptedRunExecutor.Json(epochs: 0)));
        Assert.Equal(new OptionError("Epochs", "must be at least 1, got 0"), e.Error);
        Assert.Empty(app.Repository().List());
    }

    [Fact]
    public void Actions_Viewer_AreRefused()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor());
        app.Start();
        var viewer = Principal("watcher", Roles.Viewer);
        Assert.Throws<UnauthorizedAccessException>(() => app.Service().Start(viewer, "x", ScriptedRunExecutor.Json()));
        Assert.Throws<UnauthorizedAccessException>(() => app.Service().Stop(viewer, "any"));
        Assert.Throws<UnauthorizedAccessException>(() => app.Service().Pause(viewer, "any"));
        Assert.Throws<UnauthorizedAccessException>(() => app.Service().Delete(viewer, "any"));
    }

    [Fact]
    public async Task Start_TwoRunsOnOneDevice_SecondWaitsForTheFirst()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        var gate = new SemaphoreSlim(0);
        var executor = new ScriptedRunExecutor { StepGate = gate };
        await using var app = new MedZooAppFactory(folder.Path, executor);
        app.Start();
        var a = app.Service().Start(Admin, "a", ScriptedRunExecutor.Json(epochs: 1, stepsPerEpoch: 2));
        var b = app.Service().Start(Admin, "b", ScriptedRunExecutor.Json(epochs: 1, stepsPerEpoch: 2));
        await app.WaitForStatusAsync(a.Id, RunStatus.Running);
        Assert.Equal(RunStatus.Queued, app.Repository().Get(b.Id)!.Status);
        gate.Release(4);
        var doneA = await app.WaitForStatusAsync(a.Id, RunStatus.Completed);
        var doneB = await app.WaitForStatusAsync(b.Id, RunStatus.Completed);
        Assert.Equal([a.Id, b.Id], executor.Started);
        Assert.True(doneB.StartedAt >= doneA.FinishedAt);
    }

    [Fact]
    public async Task Start_ManyRunsWithinMilliseconds_QueueInTheOrderStarted()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        var gate = new SemaphoreSlim(0);
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor { StepGate = gate });
        app.Start();
        var started = Enumerable.Range(0, 20).Select(i => app.Service().Start(Admin, $"r{i}", ScriptedRunExecutor.Json(epochs: 1, stepsPerEpoch: 1))).ToList();
        var created = started.Select(r => app.Repository().Get(r.Id)!.CreatedAt).ToList();
        Assert.True(created.Zip(created.Skip(1)).All(p => p.First < p.Second), "creation times must strictly increase as stored");
        var order = app.Repository().WithStatus(RunStatus.Queued, RunStatus.Running).Select(r => r.Id).ToList();
        Assert.Equal(started.Select(r => r.Id), order);
        gate.Release(100);
    }

    [Fact]
    public async Task PauseResumeStop_RunningRun_ChangeItsStatus()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        var gate = new SemaphoreSlim(0);
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor { StepGate = gate });
        app.Start();
        var run = app.Service().Start(Admin, "r", ScriptedRunExecutor.Json(epochs: 1, stepsPerEpoch: 50));
        await app.WaitForStatusAsync(run.Id, RunStatus.Running);
        Assert.True(app.Service().Pause(Admin, run.Id));
        gate.Release(1); // lets the current step finish; the next batch boundary sees the pause
        await app.WaitForStatusAsync(run.Id, RunStatus.Paused);
        Assert.True(app.Service().Resume(Admin, run.Id));
        await app.WaitForStatusAsync(run.Id, RunStatus.Running);
        Assert.True(app.Service().Stop(Admin, run.Id));
        var stopped = await app.WaitForStatusAsync(run.Id, RunStatus.Stopped);
        Assert.Equal("stopped by the user", stopped.Reason);
    }

    [Fact]
    public async Task Restart_WhileRunning_MarksInterruptedAndResumeContinuesFromTheCheckpoint()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        var gate = new SemaphoreSlim(0);
        string id;
        await using (var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor { StepGate = gate }))
        {
            app.Start();
            id = app.Service().Start(Admin, "long", ScriptedRunExecutor.Json(epochs: 3, stepsPerEpoch: 2)).Id;
            gate.Release(3); // epoch 1 and one step of epoch 2
            await app.WaitForRunAsync(id, r => r.GlobalStep == 3, "three steps recorded");
        }
        await using (var again = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor()))
        {
            again.Start();
            var interrupted = again.Repository().Get(id)!;
            Assert.Equal(RunStatus.Interrupted, interrupted.Status);
            Assert.Contains("server stopped", interrupted.Reason);
            Assert.Equal(1, again.Checkpoints().List(id).Single().Epoch);

            again.Service().Continue(Admin, id);
            var done = await again.WaitForStatusAsync(id, RunStatus.Completed);
            Assert.Equal(3, done.EpochsCompleted);
            Assert.Equal(2, done.Sessions);
            Assert.Equal([1, 2, 3], again.Repository().Metrics(id, MetricKind.Epoch).Select(m => m.Epoch));
            var view = MedZoo.Web.Runs.Live.RunView.Load(again.Repository(), done);
            Assert.Equal([1L, 2, 3, 4, 5, 6], view.Steps.Select(s => s.GlobalStep));
        }
    }

    [Fact]
    public async Task Stop_ServerShutsDownBeforeTheStoppedRunReturns_StaysStopped()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        var returned = new SemaphoreSlim(0);
        await using (var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor { StepGate = new SemaphoreSlim(0), ReturnGate = returned }))
        {
            app.Start();
            var id = app.Service().Start(Admin, "stopped by a user", ScriptedRunExecutor.Json(epochs: 3, stepsPerEpoch: 2)).Id;
            await app.WaitForStatusAsync(id, RunStatus.Running);
            Assert.True(app.Service().Stop(Admin, id));
            await app.WaitForRunAsync(id, r => r.Status == RunStatus.Stopped, "the trainer's stop event stored");
            // The server begins shutting down while the trainer is still returning from the user's stop.
            var shutdown = app.Services.GetRequiredService<RunWorker>().StopAsync(CancellationToken.None);
            returned.Release();
            await Waits.For(shutdown.ContinueWith(_ => true), "the worker to stop");
            var run = app.Repository().Get(id)!;
            Assert.Equal(RunStatus.Stopped, run.Status);
            Assert.DoesNotContain("server stopped", run.Reason ?? "");
        }
    }

    [Fact]
    public async Task Start_RunLeftRunningByAKilledServer_IsMarkedInterrupted()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using (var f = new StoreFixture(folder))
        {
            var r = f.AddRun("crashed");
            f.Runs.Update("crashed", x =>
            {
                x.SessionStartedAt = DateTime.UtcNow.AddMinutes(-10);
                x.LastActivityAt = DateTime.UtcNow.AddMinutes(-9);
            });
        }
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor());
        app.Start();
        var run = app.Repository().Get("crashed")!;
        Assert.Equal(RunStatus.Interrupted, run.Status);
        // Its session counts until its last recorded event, not until the restart.
        Assert.InRange(run.ActiveSeconds, 55, 65);
    }

    [Fact]
    public async Task Stop_QueuedRunStoppedAfterTheWorkerTookItBeforeItStarts_NeverTrains()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        var executor = new ScriptedRunExecutor();
        await using var app = new MedZooAppFactory(folder.Path, executor);
        app.Start();
        var worker = app.Services.GetRequiredService<RunWorker>();
        var stopAnswer = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        // The user's Stop lands in the window between the worker dequeuing the run and marking it running.
        worker.BeforeRunStarts = id =>
        {
            if (app.Repository().Get(id)?.Name == "stopped while dequeued") stopAnswer.TrySetResult(app.Service().Stop(Admin, id));
        };
        var target = app.Service().Start(Admin, "stopped while dequeued", ScriptedRunExecutor.Json(epochs: 1, stepsPerEpoch: 2)).Id;
        Assert.True(await Waits.For(stopAnswer.Task, "the stop in the window"));
        var stopped = await app.WaitForStatusAsync(target, RunStatus.Stopped);

        // One run per device: a second run starts only once the worker let go of the first.
        var probe = app.Service().Start(Admin, "probe", ScriptedRunExecutor.Json(epochs: 1, stepsPerEpoch: 1));
        await app.WaitForStatusAsync(probe.Id, RunStatus.Completed);
        Assert.Equal([probe.Id], executor.Started);
        stopped = app.Repository().Get(target)!;
        Assert.Equal(RunStatus.Stopped, stopped.Status);
        Assert.Equal(RunWorker.CancelledReason, stopped.Reason);
        Assert.Equal(0, stopped.Sessions);
        Assert.Null(stopped.StartedAt);
        Assert.Empty(app.Repository().Metrics(target, MetricKind.Step));
    }

    [Fact]
    public async Task Stop_QueuedRunCancelledInTheStoreAfterTheQueueWasRead_IsNotMarkedRunning()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        var executor = new ScriptedRunExecutor();
        await using var app = new MedZooAppFactory(folder.Path, executor);
        app.Start();
        var worker = app.Services.GetRequiredService<RunWorker>();
        // The stop recorded as RunService.Stop does for a run the worker does not host yet: the
        // worker's snapshot of the queue still says queued.
        worker.BeforeRunStarts = id =>
        {
            if (app.Repository().Get(id)?.Name != "cancelled") return;
            app.Repository().Update(id, r =>
            {
                r.Status = RunStatus.Stopped;
                r.Reason = RunWorker.CancelledReason;
            });
        };
        var target = app.Service().Start(Admin, "cancelled", ScriptedRunExecutor.Json(epochs: 1, stepsPerEpoch: 2)).Id;
        var probe = app.Service().Start(Admin, "probe", ScriptedRunExecutor.Json(epochs: 1, stepsPerEpoch: 1));
        await app.WaitForStatusAsync(probe.Id, RunStatus.Completed);
        Assert.Equal([probe.Id], executor.Started);
        var cancelled = app.Repository().Get(target)!;
        Assert.Equal(RunStatus.Stopped, cancelled.Status);
        Assert.Equal(0, cancelled.Sessions);
    }

    [Fact]
    public async Task Continue_RightAfterTheTrainerStoppedBeforeTheSessionEnds_TrainsAgain()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        var gate = new SemaphoreSlim(0);
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor { StepGate = gate });
        app.Start();
        var worker = app.Services.GetRequiredService<RunWorker>();
        var continued = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // The user resumes the moment the stop is stored, while the worker still holds the run's session.
        worker.BeforeRunFinishes = id =>
        {
            if (continued.Task.IsCompleted || app.Repository().Get(id)?.Status != RunStatus.Stopped) return;
            app.Service().Continue(Admin, id);
            continued.TrySetResult();
        };
        var id = app.Service().Start(Admin, "resumed at once", ScriptedRunExecutor.Json(epochs: 2, stepsPerEpoch: 2)).Id;
        gate.Release(2); // epoch 1, with its checkpoint
        await app.WaitForRunAsync(id, r => r.EpochsCompleted == 1, "epoch 1 recorded");
        Assert.True(app.Service().Stop(Admin, id));
        gate.Release(1);
        await Waits.For(continued.Task.ContinueWith(_ => true), "the resume while the session ends");
        gate.Release(100);
        var done = await app.WaitForStatusAsync(id, RunStatus.Completed);
        Assert.Equal(2, done.EpochsCompleted);
        Assert.Equal(2, done.Sessions);
    }
}
