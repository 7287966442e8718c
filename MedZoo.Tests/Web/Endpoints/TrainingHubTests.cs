using System.Net;
using MedZoo.Engine.Training;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Accounts;
using MedZoo.Web.Live;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Live;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using static MedZoo.Tests.Web.Support.AppTestHelpers;

namespace MedZoo.Tests.Web.Endpoints;

public sealed class TrainingHubTests
{
    private static HubConnection Connect(Uri address, CookieContainer? cookies, params (string Name, string Value)[] headers) =>
        new HubConnectionBuilder()
            .WithUrl(new Uri(address, "hubs/training"), o =>
            {
                if (cookies is not null) o.Cookies = cookies;
                foreach (var (name, value) in headers) o.Headers[name] = value;
            })
            .AddJsonProtocol(o => LiveJson.Configure(o.PayloadSerializerOptions))
            .Build();

    [Fact]
    public async Task Subscribe_SignedIn_ReceivesTheRunsEventsLive()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        var gate = new SemaphoreSlim(0);
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor { StepGate = gate });
        var address = app.Start();
        var run = app.Service().Start(Admin, "watched", ScriptedRunExecutor.Json(epochs: 1, stepsPerEpoch: 3));
        await app.WaitForStatusAsync(run.Id, RunStatus.Running);

        var (_, cookies) = await SignIn.AsAsync(address, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword);
        await using var hub = Connect(address, cookies);
        var steps = new List<long>();
        var epoch = new TaskCompletionSource<EpochCompleted>(TaskCreationOptions.RunContinuationsAsynchronously);
        var finished = new TaskCompletionSource<RunFinished>(TaskCreationOptions.RunContinuationsAsynchronously);
        var preview = new TaskCompletionSource<SlicePreview>(TaskCreationOptions.RunContinuationsAsynchronously);
        hub.On<long, StepCompleted>(nameof(ITrainingClient.StepCompleted), (_, e) => { lock (steps) steps.Add(e.GlobalStep); });
        hub.On<long, EpochCompleted>(nameof(ITrainingClient.EpochCompleted), (_, e) => epoch.TrySetResult(e));
        hub.On<long, SlicePreview>(nameof(ITrainingClient.SlicePreview), (_, e) => preview.TrySetResult(e));
        hub.On<long, RunFinished>(nameof(ITrainingClient.RunFinished), (_, e) => finished.TrySetResult(e));
        await hub.StartAsync();
        var stored = await hub.InvokeAsync<RunInfo>(nameof(TrainingHub.Subscribe), run.Id);
        Assert.Equal("watched", stored.Name);

        gate.Release(3);
        var e = await Waits.For(epoch.Task, "EpochCompleted over the hub");
        Assert.True(double.IsNaN(e.Validation![0].Hd95));
        Assert.Equal(["background", "csf", "gm", "wm"], e.Validation.Select(m => m.Name));
        var p = await Waits.For(preview.Task, "SlicePreview over the hub");
        Assert.Equal(256, p.Image.Length);
        Assert.Equal(RunOutcome.Completed, (await Waits.For(finished.Task, "RunFinished over the hub")).Outcome);
        // Steps released together are thinned (MedZoo:Live:HubStepInterval): the first goes out at once,
        // the last before the epoch, in order.
        lock (steps)
        {
            Assert.Equal(1L, steps[0]);
            Assert.Equal(3L, steps[^1]);
            Assert.Equal(steps.Order(), steps);
        }
    }

    [Fact]
    public async Task Stop_Viewer_IsRefusedAndOperatorStops()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        var gate = new SemaphoreSlim(0);
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor { StepGate = gate });
        var address = app.Start();
        var users = app.Services.GetRequiredService<UserService>();
        users.Create("watcher", "watcher-password", Roles.Viewer);
        var run = app.Service().Start(Admin, "r", ScriptedRunExecutor.Json(epochs: 1, stepsPerEpoch: 10));
        await app.WaitForStatusAsync(run.Id, RunStatus.Running);

        var (_, viewerCookies) = await SignIn.AsAsync(address, "watcher", "watcher-password");
        await using var viewer = Connect(address, viewerCookies);
        await viewer.StartAsync();
        await viewer.InvokeAsync<RunInfo>(nameof(TrainingHub.Subscribe), run.Id);
        await Assert.ThrowsAsync<HubException>(() => viewer.InvokeAsync<bool>(nameof(TrainingHub.Stop), run.Id));
        Assert.Equal(RunStatus.Running, app.Repository().Get(run.Id)!.Status);

        var (_, adminCookies) = await SignIn.AsAsync(address, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword);
        await using var admin = Connect(address, adminCookies);
        await admin.StartAsync();
        Assert.True(await admin.InvokeAsync<bool>(nameof(TrainingHub.Stop), run.Id));
        await app.WaitForStatusAsync(run.Id, RunStatus.Stopped);
    }

    [Fact]
    public async Task Connect_Anonymous_IsRefused()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor());
        await using var hub = Connect(app.Start(), null);
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => hub.StartAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, e.StatusCode);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Connect_FromAnotherOriginWithTheCookie_IsRefused(bool webSocketOnly)
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor());
        var address = app.Start();
        var (_, cookies) = await SignIn.AsAsync(address, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword);
        await using var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(address, "hubs/training"), o =>
            {
                o.Cookies = cookies;
                o.Headers["Origin"] = $"http://127.0.0.1:{(address.Port == 8888 ? 8889 : 8888)}";
                if (!webSocketOnly) return;
                o.SkipNegotiation = true;
                o.Transports = Microsoft.AspNetCore.Http.Connections.HttpTransportType.WebSockets;
            })
            .Build();
        var e = await Assert.ThrowsAnyAsync<Exception>(() => hub.StartAsync());
        Assert.Contains("403", e.ToString());
        Assert.Equal(HubConnectionState.Disconnected, hub.State);

        // The same user from the dashboard's own origin connects.
        await using var own = Connect(address, cookies, ("Origin", address.GetLeftPart(UriPartial.Authority)));
        await own.StartAsync();
    }

    [Fact]
    public async Task Stop_OperatorDemotedWhileConnected_IsRefused()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        var gate = new SemaphoreSlim(0);
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor { StepGate = gate });
        var address = app.Start();
        var users = app.Services.GetRequiredService<UserService>();
        users.Create("op", "operator-password", Roles.Operator);
        var run = app.Service().Start(Admin, "r", ScriptedRunExecutor.Json(epochs: 1, stepsPerEpoch: 10));
        await app.WaitForStatusAsync(run.Id, RunStatus.Running);

        var (_, cookies) = await SignIn.AsAsync(address, "op", "operator-password");
        await using var hub = Connect(address, cookies);
        await hub.StartAsync();
        await hub.InvokeAsync<RunInfo>(nameof(TrainingHub.Subscribe), run.Id);
        users.SetRole("op", Roles.Viewer);
        await Assert.ThrowsAnyAsync<Exception>(() => hub.InvokeAsync<bool>(nameof(TrainingHub.Stop), run.Id));
        Assert.Equal(RunStatus.Running, app.Repository().Get(run.Id)!.Status);

        // Reconnecting goes through the cookie, which now carries the viewer role.
        await using var again = Connect(address, cookies);
        await again.StartAsync();
        await Assert.ThrowsAsync<HubException>(() => again.InvokeAsync<bool>(nameof(TrainingHub.Stop), run.Id));
        Assert.Equal(RunStatus.Running, app.Repository().Get(run.Id)!.Status);
        gate.Release(1000);
    }

    [Theory]
    [InlineData("deleted")]
    [InlineData("password")]
    public async Task Connection_AccountDeletedOrPasswordReset_IsClosedWithinTheRevalidationInterval(string change)
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor());
        app.Settings["MedZoo:Accounts:RevalidationInterval"] = "00:00:00.200";
        var address = app.Start();
        var users = app.Services.GetRequiredService<UserService>();
        users.Create("watcher", "watcher-password", Roles.Viewer);
        var (_, cookies) = await SignIn.AsAsync(address, "watcher", "watcher-password");
        await using var hub = Connect(address, cookies);
        var closed = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        hub.Closed += _ => { closed.TrySetResult(true); return Task.CompletedTask; };
        await hub.StartAsync();
        if (change == "deleted") users.Delete("watcher");
        else users.SetPassword("watcher", "a-new-password");
        // Nothing is invoked: the connection only listens, and still must not outlive the change.
        await Waits.For(closed.Task, "the server to close the hub connection of a changed account", TimeSpan.FromSeconds(30));
        await using var again = Connect(address, cookies);
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => again.StartAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, e.StatusCode);
    }
}
