using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using MedZoo.Engine.Training;
using MedZoo.Web.Live;
using MedZoo.Web.Persistence;
using MedZoo.Web.Runs;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace MedZoo.Reliability.Server;

/// <summary>What watching a run cost: step times unwatched and watched, events each viewer got, server memory over time.</summary>
public sealed record LoadResult(
    int Clients, int Epochs, int StepsPerRun, double UnwatchedStepSeconds, double WatchedStepSeconds,
    IReadOnlyList<int> EpochEventsPerClient, IReadOnlyList<long> ServerRssSamples);

/// <summary>
/// Live viewers on the real server: the same training run (the smoke preset, longer) once unwatched, then with
/// <c>clients</c> real SignalR clients of the typed hub subscribed to it (signed in with the dashboard's cookie, JSON
/// protocol as documented). Counted: the mean step time of each run (the trainer's own per-step seconds from the
/// metrics API), the EpochCompleted events each client received, and the server's resident memory (VmRSS)
/// sampled every 500 ms while the watched run trains.
/// </summary>
public static class Load
{
    public static async Task<LoadResult> RunAsync(string medzoo, string work, int clients, int epochs, Action<string> progress)
    {
        using var server = new MedZooServer(medzoo, Path.Combine(work, "load-data"));
        await server.StartAsync(TimeSpan.FromMinutes(2));
        var cookies = new CookieContainer();
        using var http = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(60) };
        (await MedZooServer.PostSignInAsync(http, MedZooServer.AdminName, MedZooServer.AdminPassword)).Dispose();
        var o = TrainerRunExecutor.Smoke();
        o.Epochs = epochs;
        o.Sampling.SamplesTrain = 8;
        var config = RunConfigJson.Serialize(o);

        var unwatched = await TrainAsync(http, config, "unwatched", null);
        progress($"unwatched: {unwatched.Step:0.000} s per step");

        var received = new ConcurrentDictionary<int, int>();
        var connections = new List<HubConnection>();
        for (var i = 0; i < clients; i++)
        {
            var index = i;
            var c = new HubConnectionBuilder()
                .WithUrl(new Uri(server.Address, TrainingHub.Path.TrimStart('/')), h => h.Cookies = cookies)
                .AddJsonProtocol(j => LiveJson.Configure(j.PayloadSerializerOptions))
                .Build();
            c.On<long, EpochCompleted>(nameof(ITrainingClient.EpochCompleted), (_, _) => received.AddOrUpdate(index, 1, (_, n) => n + 1));
            c.On<long, StepCompleted>(nameof(ITrainingClient.StepCompleted), (_, _) => { });
            c.On<long, SlicePreview>(nameof(ITrainingClient.SlicePreview), (_, _) => { });
            await c.StartAsync();
            connections.Add(c);
        }
        var rss = new List<long>();
        var watched = await TrainAsync(http, config, "watched", async id =>
        {
            foreach (var c in connections) await c.InvokeAsync<RunDocument>(nameof(TrainingHub.Subscribe), id);
        }, () => { if (server.ProcessId is { } pid && Rss(pid) is { } v) rss.Add(v); });
        progress($"watched by {clients}: {watched.Step:0.000} s per step");
        foreach (var c in connections) await c.DisposeAsync();
        return new LoadResult(clients, epochs, watched.Steps, unwatched.Step, watched.Step,
            Enumerable.Range(0, clients).Select(i => received.GetValueOrDefault(i)).ToList(), rss);
    }

    private static async Task<(double Step, int Steps)> TrainAsync(HttpClient http, string config, string name, Func<string, Task>? subscribe, Action? sample = null)
    {
        using var started = await http.PostAsync("/api/runs", new StringContent($"{{\"name\":\"{name}\",\"config\":{config}}}", Encoding.UTF8, "application/json"));
        var run = await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<RunDocument>(started.Content, MedZooServer.Json)
                  ?? throw new InvalidOperationException($"starting the {name} run answered {(int)started.StatusCode}");
        if (subscribe is not null) await subscribe(run.Id);
        var clock = Stopwatch.StartNew();
        while (!(await MedZooServer.GetAsync<RunDocument>(http, $"/api/runs/{run.Id}")).Status.IsFinished() && clock.Elapsed < TimeSpan.FromMinutes(20))
        {
            sample?.Invoke();
            await Task.Delay(500);
        }
        var steps = (await MedZooServer.MetricsAsync(http, run.Id)).Where(m => m.Kind == MetricKind.Step).ToList();
        return (steps.Count == 0 ? double.NaN : steps.Average(s => s.Seconds), steps.Count);
    }

    private static long? Rss(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? null : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
