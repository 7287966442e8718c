using System.Diagnostics;
using MedZoo.Engine.Training;
using MedZoo.Web.Cluster.Live;
using MedZoo.Web.Runs.Live;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace MedZoo.Tests.Cluster;

/// <summary>
/// Faults of the cluster live stream on a cluster of its own (Redis restarted, a node's subscription lost): they disturb
/// the stream for seconds, so they do not share servers and nodes with <see cref="ClusterLiveStreamTests"/>, whose
/// exactly-once checks would see the disturbance.
/// </summary>
public sealed class ClusterLiveStreamFaultTests(ClusterLiveStreamTests.Cluster cluster, ITestOutputHelper output) : IClassFixture<ClusterLiveStreamTests.Cluster>
{
    private static RunLog Log(string run, int i) => new() { RunId = run, Level = RunLogLevel.Info, Message = $"line {i}" };

    private static EpochCompleted Epoch(string run, int e) => new() { RunId = run, Epoch = e, Epochs = 100_000, TrainLoss = 1.0 / e, LearningRate = 0.01, Seconds = 1 };

    [Fact]
    public async Task Receiver_SubscriptionLostWhileRedisAnswers_SubscribesAgainAndTheStreamResumes()
    {
        const string run = "lost-subscription";
        cluster.AddRun(run);
        var receiverA = cluster.NodeA.Services.GetRequiredService<ClusterLiveReceiver>();
        using var pages = new ClusterLiveStreamTests.NotifierWatch(cluster.NodeA.Services.GetRequiredService<RunNotifier>(), run) { Counts = cluster.Counts };
        // Node A receives (after the other test's Redis restarts it may still be subscribing again: that test checks it).
        var seq = 0;
        var start = Stopwatch.StartNew();
        while (pages.Seqs.Count == 0)
        {
            Assert.True(start.Elapsed < TimeSpan.FromSeconds(30), $"node A received nothing for 30 s {cluster.Counts()}");
            cluster.Worker.Publish(Epoch(run, ++seq));
            await Task.Delay(200);
        }
        await Task.Delay(500); // what was still on its way
        var before = receiverA.Resubscriptions;
        var had = pages.Seqs.Count;

        // Node A's subscription is lost while Redis and the connection stay up, as after some Redis restarts: its
        // in-process connection leaves the nodes' group, and Redis unsubscribes the node from the group's channel.
        await cluster.NodeA.Services.GetRequiredService<IHubContext<ClusterLiveHub, IClusterLiveClient>>().Groups
            .RemoveFromGroupAsync(receiverA.ConnectionId!, ClusterLiveHub.NodesGroup);
        cluster.Worker.Publish(Epoch(run, ++seq));
        await Task.Delay(500);
        Assert.Equal(had, pages.Seqs.Count); // the loss is real: nothing arrives on its own

        // The node's probe does not come back; it subscribes again and the worker's updates arrive again.
        var clock = Stopwatch.StartNew();
        while (pages.Seqs.Count == had)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"node A did not receive again within 30 s (resubscriptions {receiverA.Resubscriptions}) {cluster.Counts()}");
            cluster.Worker.Publish(Epoch(run, ++seq));
            await Task.Delay(200);
        }
        Assert.True(receiverA.Resubscriptions > before, "the stream came back without the node subscribing again");
        // SignalR reports the deliberate close after the new connection is up; that must not start a second one.
        await Task.Delay(1500);
        Assert.False(cluster.NodeALogs.Contains("cannot be started if it is not in the Disconnected state"),
            "a second connection attempt ran beside the resubscription's " + cluster.Counts());
        output.WriteLine($"lost subscription: node A received again {clock.Elapsed.TotalSeconds:F1} s later, after {receiverA.Resubscriptions - before} resubscription(s)");
    }

    [Fact]
    public async Task RedisRestarted_TenTimes_AViewerOnAnotherNodeGetsTheWorkersUpdatesAgainEachTime()
    {
        const string run = "restarts";
        cluster.AddRun(run);
        await using var viewer = await ClusterLiveStreamTests.Viewer.ConnectAsync(cluster.NodeBAddress, cluster.Cookies, run, cluster.Counts);
        using var nodeB = new ClusterLiveStreamTests.NotifierWatch(cluster.NodeB.Services.GetRequiredService<RunNotifier>(), run);
        using var nodeA = new ClusterLiveStreamTests.NotifierWatch(cluster.NodeA.Services.GetRequiredService<RunNotifier>(), run);
        var receiverB = cluster.NodeB.Services.GetRequiredService<ClusterLiveReceiver>();
        var line = 0;
        var took = new List<double>();
        for (var restart = 1; restart <= 10; restart++)
        {
            await cluster.Servers.RestartRedisAsync();
            var clock = Stopwatch.StartNew();
            while (true)
            {
                cluster.Worker.Publish(Log(run, ++line));
                if (await viewer.TryNextAsync(TimeSpan.FromMilliseconds(200)) is not null) break;
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30),
                    $"restart {restart}: the viewer got nothing for 30 s; node B's notifier has {nodeB.Seqs.Count} of {line} updates " +
                    $"(last {nodeB.Seqs.LastOrDefault()}), node B resubscribed {receiverB.Resubscriptions} times {cluster.Counts()}");
            }
            took.Add(clock.Elapsed.TotalSeconds);
            // Node A (which also forwards) recovers too: every node's subscription, not only the viewer's node's.
            var aBefore = nodeA.Seqs.Count;
            while (nodeA.Seqs.Count == aBefore)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"restart {restart}: node A got nothing for 30 s {cluster.Counts()}");
                cluster.Worker.Publish(Log(run, ++line));
                await Task.Delay(200);
            }
            while (await viewer.TryNextAsync(TimeSpan.FromMilliseconds(300)) is not null) { } // what was still on its way
        }
        output.WriteLine($"Redis restarted 10 times: the viewer on node B got updates again after {string.Join(", ", took.Select(t => t.ToString("0.0")))} s");
    }
}
