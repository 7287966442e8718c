using System.Text.Json.Nodes;
using MedZoo.Engine.Training;
using MedZoo.Web.Cluster.Live;
using MedZoo.Web.Live;
using MedZoo.Web.Persistence;
using MedZoo.Web.Runs.Live;
using MedZoo.Web.Runs;

namespace MedZoo.Tests.Web.Cluster.Live;

public sealed class ClusterLiveMessageTests
{
    private const int Max = 1024 * 1024;

    private static EpochCompleted Epoch(int e) => new()
    {
        RunId = "r", Epoch = e, Epochs = 10, TrainLoss = 0.5, LearningRate = 0.01, Seconds = 2, MeanForegroundDice = double.NaN,
    };

    [Fact]
    public void EncodeTryDecode_EveryKindOfUpdate_RoundTripsWithItsOrigin()
    {
        var pixels = new byte[] { 0, 1, 255 };
        RunUpdate[] updates =
        [
            new(1, new RunStarted { RunId = "r", Model = "unet", Dataset = "d", Device = "cpu", ClassNames = ["bg", "fg"], Modalities = ["ct"], Epochs = 2, StepsPerEpoch = 4, Parameters = 9 }),
            new(2, new StepCompleted { RunId = "r", Epoch = 1, Step = 1, StepsPerEpoch = 4, GlobalStep = 1, Loss = 0.9, LearningRate = 0.01, Dice = [0.1, double.NaN] }),
            new(3, Epoch(1)),
            new(4, new SlicePreview { RunId = "r", Epoch = 1, SubjectId = "s", Plane = SlicePlane.Axial, SliceIndex = 1, SliceCount = 3, Width = 3, Height = 1, Image = pixels, Prediction = pixels }),
            new(5, new CheckpointSaved { RunId = "r", Epoch = 1, Kind = "best", Location = "ckpt-1" }),
            new(6, new RunStateChanged { RunId = "r", Paused = true }),
            new(7, new RunLog { RunId = "r", Level = RunLogLevel.Warning, Message = "careful" }),
            new(8, new RunFinished { RunId = "r", Outcome = RunOutcome.Completed, EpochsCompleted = 2 }),
            new(0, new RunStatusChanged { RunId = "r", Status = RunStatus.Completed, Reason = "done" }),
        ];
        foreach (var u in updates)
        {
            var message = ClusterLiveMessage.Encode(u, "worker-1");
            Assert.True(ClusterLiveMessage.TryDecode(message, Max, out var origin, out var back, out var error), error);
            Assert.Equal("worker-1", origin);
            Assert.Equal(u.Seq, back!.Seq);
            Assert.Equal(u.Event.GetType(), back.Event.GetType());
            // Records with arrays compare by reference: compare their encodings instead.
            Assert.Equal(message, ClusterLiveMessage.Encode(back, "worker-1"));
        }
    }

    [Fact]
    public void TryDecode_LongerThanTheLimit_RejectedBeforeParsing()
    {
        var message = ClusterLiveMessage.Encode(new RunUpdate(1, new RunLog { RunId = "r", Level = RunLogLevel.Info, Message = new string('x', 5000) }), "w");
        Assert.False(ClusterLiveMessage.TryDecode(message, 4096, out _, out var update, out var error));
        Assert.Null(update);
        Assert.Contains("more than the 4096 allowed", error);
    }

    public static TheoryData<string, string> Malformed => new()
    {
        { "", "not valid" },
        { "not json", "not valid" },
        { "[1,2]", "not a JSON object" },
        { """{"v":2,"origin":"w","type":"EpochCompleted","seq":1,"event":{}}""", "version is 2, expected 1" },
        { """{"origin":"w","type":"EpochCompleted","seq":1,"event":{}}""", "version is missing" },
        { """{"v":1,"type":"EpochCompleted","seq":1,"event":{}}""", "names no sender" },
        { """{"v":1,"origin":"w","type":"Exploit","seq":1,"event":{}}""", "\"Exploit\" is not a run event" },
        { """{"v":1,"origin":"w","type":"TrainingEvent","seq":1,"event":{"runId":"r"}}""", "not a run event" },
        { """{"v":1,"origin":"w","type":"RunLog","seq":0,"event":{"runId":"r","level":"Info","message":"m"}}""", "is not a positive number" },
        { """{"v":1,"origin":"w","type":"RunStatusChanged","seq":5,"event":{"runId":"r","status":"Running"}}""", "is not 0" },
        { """{"v":1,"origin":"w","type":"RunLog","seq":1}""", "has no event object" },
        { """{"v":1,"origin":"w","type":"RunLog","seq":1,"event":{"runId":"","level":"Info","message":"m"}}""", "run id is empty" },
        { """{"v":1,"origin":"w","type":"RunLog","seq":1,"event":{"runId":"r","level":"Info"}}""", "not valid" },
        { """{"v":1,"origin":"w","type":"RunLog","seq":1,"event":{"runId":"r","level":"Loud","message":"m"}}""", "not valid" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void TryDecode_Malformed_RejectedWithTheReason(string message, string expected)
    {
        Assert.False(ClusterLiveMessage.TryDecode(message, Max, out _, out var update, out var error));
        Assert.Null(update);
        Assert.Contains(expected, error);
    }

    [Fact]
    public void TryDecode_DeeplyNested_RejectedNotOverflowed()
    {
        var node = new JsonObject { ["v"] = 1, ["origin"] = "w", ["type"] = "RunLog", ["seq"] = 1 };
        var message = node.ToJsonString()[..^1] + ",\"event\":" + new string('[', 10_000) + new string(']', 10_000) + "}";
        Assert.False(ClusterLiveMessage.TryDecode(message, Max, out _, out _, out var error));
        Assert.Contains("not valid", error);
    }

    [Fact]
    public void Encode_DashboardOnlyEventType_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => ClusterLiveMessage.Encode(new RunUpdate(1, new UnknownEvent { RunId = "r" }), "w"));
        Assert.Contains("UnknownEvent has no wire format", e.Message);
    }

    private sealed record UnknownEvent : TrainingEvent;
}
