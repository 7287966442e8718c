using MedZoo.Web.Accounts;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace MedZoo.Web.Runs.Live;

/// <summary>
/// The typed SignalR hub at <see cref="Path"/>: signed-in clients subscribe to runs and receive the
/// same events as the dashboard's pages (<see cref="ITrainingClient"/>); operators may also pause,
/// resume and stop. Authentication is the dashboard's cookie (post the sign-in form first).
/// </summary>
[Authorize]
public sealed class TrainingHub(IRunStore runs, RunService service, HubBridge bridge) : Hub<ITrainingClient>
{
    /// <summary>Where the hub is mapped.</summary>
    public const string Path = "/hubs/training";

    /// <summary>
    /// Subscribes the caller to a run's events; returns the run as it is now (its history is at
    /// /api/runs/{id}/metrics). Events reach each connection through its own queue
    /// (<see cref="HubBridge"/>): a client that falls behind skips step points, and one that falls
    /// too far behind is disconnected, to reconnect and subscribe again.
    /// </summary>
    public RunInfo Subscribe(string runId)
    {
        var run = runs.Get(runId) ?? throw new HubException($"run '{runId}' does not exist");
        bridge.Watch(Context.ConnectionId, runId, Context.Abort);
        return RunInfo.From(run);
    }

    /// <summary>Stops sending a run's events to the caller.</summary>
    public void Unsubscribe(string runId) => bridge.Unwatch(Context.ConnectionId, runId);

    /// <summary>Drops the connection's queue.</summary>
    public override Task OnDisconnectedAsync(Exception? exception)
    {
        bridge.Forget(Context.ConnectionId);
        return base.OnDisconnectedAsync(exception);
    }

    /// <summary>Stops a run (operators).</summary>
    [Authorize(Policy = Roles.OperatePolicy)]
    public bool Stop(string runId) => service.Stop(Context.User!, runId);

    /// <summary>Pauses a run (operators).</summary>
    [Authorize(Policy = Roles.OperatePolicy)]
    public bool Pause(string runId) => service.Pause(Context.User!, runId);

    /// <summary>Resumes a paused run (operators).</summary>
    [Authorize(Policy = Roles.OperatePolicy)]
    public bool Resume(string runId) => service.Resume(Context.User!, runId);
}
