using MedZoo.Engine.Training;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Live;

namespace MedZoo.Tests.Web.Runs.Live;

/// <summary>
/// A run page that lost live updates (a stopped stream, a hole, a resumed session) catches up from the database
/// within two checks, without losing what it already had live, and never reloads while the stream works.
/// The "database" here is a list of stored updates; <see cref="RunView.Load"/> itself is tested in RunViewTests.
/// </summary>
public sealed class RunViewSyncTests
{
    private const string RunId = "r";

    /// <summary>What the recorder stored so far, and the run's stored summary.</summary>
    private sealed class Stored
    {
        public readonly List<RunUpdate> Updates = [];
        public RunStatus Status = RunStatus.Running;

        public RunRecord Run => new()
        {
            Id = RunId, Name = RunId, Status = Status, StepsPerEpoch = 1, LastSeq = Updates.Count == 0 ? 0 : Updates.Max(u => u.Seq),
        };

        public void Store(RunUpdate u)
        {
            Updates.RemoveAll(x => x.Seq >= u.Seq && u.Event is RunStarted); // a new session replaces what followed its start
            Updates.Add(u);
        }

        public RunView Load(RunRecord run)
        {
            var view = new RunView(run);
            foreach (var u in Updates.OrderBy(u => u.Seq)) view.Apply(u);
            return view;
        }
    }

    private static RunUpdate Epoch(long seq, int epoch, double loss = 1) =>
        new(seq, new EpochCompleted { RunId = RunId, Epoch = epoch, Epochs = 50, TrainLoss = loss, LearningRate = 0.1, Seconds = 1 });

    private static RunUpdate Started(long seq) => new(seq, new RunStarted
    {
        RunId = RunId, Model = "m", Dataset = "d", Device = "cpu", ClassNames = ["bg", "fg"], Modalities = ["t1"], Epochs = 50,
        StepsPerEpoch = 1, Parameters = 1,
    });

    private static (Stored Db, RunViewSync Sync) Start()
    {
        var db = new Stored();
        return (db, new RunViewSync(db.Run, db.Load));
    }

    [Fact]
    public void Check_LiveStreamAheadOfTheDatabase_NeverReloads()
    {
        var (db, sync) = Start();
        for (var e = 1; e <= 30; e++)
        {
            var u = Epoch(e, e);
            sync.Apply(u);
            if (e > 2) db.Store(Epoch(e - 2, e - 2)); // the recorder trails the stream
            Assert.False(sync.Check(db.Run), $"epoch {e}: reloaded although nothing was missed");
        }
        Assert.Equal(0, sync.Reloads);
        Assert.Equal(30, sync.View.Epochs.Count);
    }

    [Fact]
    public void Check_StreamStopped_ReloadsAtTheSecondCheckWithEveryStoredEpoch()
    {
        var (db, sync) = Start();
        for (var e = 1; e <= 10; e++)
        {
            sync.Apply(Epoch(e, e));
            db.Store(Epoch(e, e));
        }
        for (var e = 11; e <= 15; e++) db.Store(Epoch(e, e)); // Redis is down: stored, never seen live

        Assert.False(sync.Check(db.Run)); // could still be on its way
        Assert.True(sync.Check(db.Run));
        Assert.Equal(Enumerable.Range(1, 15), sync.View.Epochs.Select(p => p.Epoch));
        Assert.Equal(15, sync.View.LastSeq);

        // The stream comes back: the page goes on live without another reload.
        sync.Apply(Epoch(16, 16));
        Assert.False(sync.Check(db.Run));
        Assert.Equal(16, sync.View.Epochs.Count);
        Assert.Equal(1, sync.Reloads);
    }

    [Fact]
    public void Check_HoleInTheStream_ReloadsOnceStoredAndKeepsLaterLiveUpdates()
    {
        var (db, sync) = Start();
        for (var e = 1; e <= 5; e++) sync.Apply(Epoch(e, e));
        sync.Apply(Epoch(9, 9)); // 6..8 were dropped on the way
        sync.Apply(Epoch(10, 10));
        Assert.True(sync.Behind);

        for (var e = 1; e <= 7; e++) db.Store(Epoch(e, e));
        Assert.False(sync.Check(db.Run)); // the database does not hold the hole yet: reloading now would not fill it
        db.Store(Epoch(8, 8));
        Assert.True(sync.Check(db.Run));

        // 9 and 10 were live only (not stored yet): the reload kept them.
        Assert.Equal(Enumerable.Range(1, 10), sync.View.Epochs.Select(p => p.Epoch));
        Assert.False(sync.Behind);
    }

    [Fact]
    public void Apply_RunResumedElsewhere_ShowsTheNewSessionNotTheVanishedOne()
    {
        var (db, sync) = Start();
        sync.Apply(Started(1));
        db.Store(Started(1));
        for (var e = 1; e <= 6; e++) sync.Apply(Epoch(e + 1, e, loss: 9)); // the vanished worker's session, seen live
        for (var e = 1; e <= 4; e++) db.Store(Epoch(e + 1, e, loss: 9));  // ... of which only epochs 1-4 were stored

        // The new session resumes from epoch 4's checkpoint, numbering on from what was stored (5).
        var resumed = new[] { Started(6), Epoch(7, 5, loss: 0.5), Epoch(8, 6, loss: 0.4) };
        foreach (var u in resumed) sync.Apply(u);
        Assert.Equal(9, sync.View.Epochs.Single(p => p.Epoch == 5).TrainLoss); // ignored by the view so far

        db.Store(resumed[0]);
        Assert.True(sync.Check(db.Run));
        Assert.Equal([9, 9, 9, 9, 0.5, 0.4], sync.View.Epochs.Select(p => p.TrainLoss));
    }

    [Fact]
    public void Check_FinishMissedByTheStream_ShowsTheStoredStatus()
    {
        var (db, sync) = Start();
        sync.Apply(Epoch(1, 1));
        db.Store(Epoch(1, 1));
        db.Status = RunStatus.Completed; // its status update was lost (status changes carry no number)

        Assert.False(sync.Check(db.Run));
        Assert.True(sync.Check(db.Run));
        Assert.Equal(RunStatus.Completed, sync.View.Run.Status);
    }

    [Fact]
    public void Check_StatusChangedLiveBeforeTheDatabase_KeepsTheLiveStatus()
    {
        var (db, sync) = Start();
        sync.Apply(new RunUpdate(0, new RunStatusChanged { RunId = RunId, Status = RunStatus.Paused }));
        Assert.False(sync.Check(db.Run)); // stored: still running, for one check
        db.Status = RunStatus.Paused;
        Assert.False(sync.Check(db.Run));
        Assert.Equal(RunStatus.Paused, sync.View.Run.Status);
    }
}
