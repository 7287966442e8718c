using MedZoo.Web.Accounts;
using MedZoo.Web.Persistence;
using MedZoo.Web.Runs;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace MedZoo.Web.Live;

/// <summary>
/// The typed SignalR hub at <see cref="Path"/>: signed-in clients subscribe to runs and receive the
/// same events as the dashboard's pages (<see cref="ITrainingClient"/>); operators may also pause,
/// resume and stop. Authentication is the dashboard's cookie (post the sign-in form first).
/// </summary>
[Authorize]
public sealed class TrainingHub(RunRepository runs, RunService service) : Hub<ITrainingClient>
{
    /// <summary>Where the hub is mapped.</summary>
    public const string Path = "/hubs/training";

    /// <summary>The SignalR group of one run's subscribers.</summary>
    public static string Group(string runId) => "run:" + runId;

    /// <summary>Subscribes the caller to a run's events; returns the run as stored now (its history is at /api/runs/{id}/metrics).</summary>
    public async Task<RunDocument> Subscribe(string runId)
    {
        var run = runs.Get(runId) ?? throw new HubException($"run '{runId}' does not exist");
        await Groups.AddToGroupAsync(Context.ConnectionId, Group(runId));
        return run;
    }

    /// <summary>Stops sending a run's events to the caller.</summary>
    public Task Unsubscribe(string runId) => Groups.RemoveFromGroupAsync(Context.ConnectionId, Group(runId));

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
