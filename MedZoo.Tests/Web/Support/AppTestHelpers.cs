using System.Security.Claims;
using MedZoo.Web.Accounts;
using MedZoo.Web.Persistence;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Live;
using Microsoft.Extensions.DependencyInjection;

namespace MedZoo.Tests.Web.Support;

/// <summary>Shortcuts into a running app's services.</summary>
public static class AppTestHelpers
{
    public static ClaimsPrincipal Principal(string name, string role) =>
        UserService.CreatePrincipal(new UserRecord { UserName = name, Role = role });

    public static ClaimsPrincipal Admin => Principal(MedZooAppFactory.AdminName, Roles.Admin);

    public static RunService Service(this MedZooAppFactory app) => app.Services.GetRequiredService<RunService>();
    public static RunRepository Repository(this MedZooAppFactory app) => app.Services.GetRequiredService<RunRepository>();
    /// <summary>The run store in either mode (LiteDB embedded, PostgreSQL in cluster mode).</summary>
    public static IRunStore Runs(this MedZooAppFactory app) => app.Services.GetRequiredService<IRunStore>();
    /// <summary>The runs' stored history (steps, epochs, events) in either mode.</summary>
    public static IRunHistoryStore History(this MedZooAppFactory app) => app.Services.GetRequiredService<IRunHistoryStore>();
    public static IRunCheckpointStore Checkpoints(this MedZooAppFactory app) => app.Services.GetRequiredService<IRunCheckpointStore>();

    /// <summary>Waits until the stored run reaches one of <paramref name="statuses"/>.</summary>
    public static Task<RunRecord> WaitForStatusAsync(this MedZooAppFactory app, string runId, params RunStatus[] statuses) =>
        app.WaitForRunAsync(runId, r => statuses.Contains(r.Status), $"run {runId} to become {string.Join(" or ", statuses)}");

    /// <summary>
    /// Waits until a condition on the stored run holds, re-checking on each of its updates; in cluster mode also every
    /// 100 ms, since a worker's updates reach this node's stream before (or without) this node storing them.
    /// </summary>
    public static async Task<RunRecord> WaitForRunAsync(this MedZooAppFactory app, string runId, Func<RunRecord, bool> condition, string what)
    {
        var repo = app.Runs();
        var notifier = app.Services.GetRequiredService<RunNotifier>();
        var recorder = app.Services.GetRequiredService<RunEventRecorder>();
        var reached = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        // Subscribe first, then check: a change between the two is seen by one or the other. Each
        // update is checked after the recorder stored it (the live stream runs ahead of the store).
        using var sub = notifier.Subscribe(runId, async _ =>
        {
            await recorder.FlushAsync();
            if (repo.Get(runId) is { } r && condition(r)) reached.TrySetResult(true);
        });
        await recorder.FlushAsync();
        if (repo.Get(runId) is { } now && condition(now)) return now;
        using var stopPolling = new CancellationTokenSource();
        if (app.Cluster is not null) _ = PollAsync(stopPolling.Token);
        try
        {
            await Waits.For(reached.Task, $"{what} (now {repo.Get(runId)?.Status})");
        }
        finally
        {
            await stopPolling.CancelAsync();
        }
        return repo.Get(runId)!;

        async Task PollAsync(CancellationToken stop)
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
            try
            {
                while (await timer.WaitForNextTickAsync(stop))
                    if (repo.Get(runId) is { } r && condition(r)) reached.TrySetResult(true);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
