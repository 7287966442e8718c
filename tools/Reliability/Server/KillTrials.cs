using System.Diagnostics;
using System.Net;
using System.Text;
using MedZoo.Engine.Devices;
using MedZoo.Engine.Networks;
using MedZoo.Engine.Training;
using MedZoo.Engine.Checkpoints;
using MedZoo.Web.Runs;
using static TorchSharp.torch;

namespace MedZoo.Reliability.Server;

/// <summary>One kill -9 and what the restart found.</summary>
public sealed record KillTrial(string Kind, int Number, TimeSpan KilledAfter, string StateAtKill, TimeSpan RestartTook, IReadOnlyList<string> Problems);

/// <summary>
/// kill -9 trials: the real server training a smoke-size run is killed with SIGKILL at a random moment (steps,
/// validation, checkpoint saves and database writes all happen several times a second), restarted on the same data
/// folder and checked (database opens, every run completed or interrupted and resumable, metric points neither
/// duplicated nor missing, the last checkpoint loads and is at most one epoch behind), then the run is resumed and
/// the next trial kills it again. The same for <c>medzoo train</c> writing its journal: killed, its journal's
/// complete lines must all parse and its checkpoint load; resumed with --resume last; at the end a server imports the
/// journals and the run is checked as above.
/// </summary>
public static class KillTrials
{
    private const int Epochs = 6;

    /// <summary>Epochs of a server trial's run: long enough (~2 s an epoch here) that every kill lands while it trains.</summary>
    private const int ServerEpochs = 30;

    /// <summary>Epochs of the command-line run: killed and resumed in every trial, trained to the end by the last session.</summary>
    private const int CliEpochs = 200;

    /// <summary>The smoke preset with more epochs and steps, so that kills land in every phase.</summary>
    public static string SmokeConfigJson(int epochs = Epochs)
    {
        var o = TrainerRunExecutor.Smoke();
        o.Epochs = epochs;
        o.Sampling.SamplesTrain = 8;
        return RunConfigJson.Serialize(o);
    }

    /// <summary>Null when <paramref name="bytes"/> is a checkpoint whose weights load into the network its header describes; else why not.</summary>
    public static string? CheckpointLoads(byte[] bytes)
    {
        try
        {
            var c = Checkpoint.Read(new MemoryStream(bytes));
            using var scope = NewDisposeScope();
            var m = c.Header.Model;
            using var model = ModelZoo.Create(m.Name, m.InChannels, m.Classes, new ModelOptions
            {
                BaseFilters = m.BaseFilters, Depth = m.Depth, DropRate = m.DropRate, InputSize = c.Header.PatchSize.Length == 3 ? c.Header.PatchSize : null,
            });
            c.LoadModel(model);
            return null;
        }
#pragma warning disable CA1031 // any failure is the finding
        catch (Exception e)
#pragma warning restore CA1031
        {
            return $"{e.GetType().Name}: {e.Message}";
        }
    }

    /// <param name="medzoo">The built medzoo.dll.</param>
    /// <param name="work">Scratch folder (data folder, logs).</param>
    /// <param name="trials">Kills.</param>
    /// <param name="seed">Seed of the kill moments.</param>
    /// <param name="progress">Receives a line per trial.</param>
    /// <param name="epochs">Epochs of the smoke run.</param>
    /// <param name="maxDelayMs">The kill comes at a random moment up to this long after the (re)started run's first step.</param>
    public static async Task<List<KillTrial>> ServerAsync(string medzoo, string work, int trials, int seed, Action<string> progress, int epochs = ServerEpochs, int maxDelayMs = 6_000)
    {
        if (TorchRuntime.TryLoad() is { } why) throw new InvalidOperationException(why);
        var random = new Random(seed);
        var results = new List<KillTrial>();
        using var server = new MedZooServer(medzoo, Path.Combine(work, "server-data"));
        await server.StartAsync(TimeSpan.FromMinutes(2));
        var client = await server.SignInAsync();
        string? runId = null;
        var missed = 0;
        for (var t = 1; t <= trials; t++)
        {
            // Start a run, or resume the one the last kill interrupted.
            var run = runId is null ? null : await MedZooServer.GetAsync<RunInfo>(client, $"/api/runs/{runId}");
            HttpResponseMessage started;
            var resumed = false;
            if (run is null || run.Status == RunStatus.Completed || run.EpochsCompleted == 0)
            {
                started = await client.PostAsync("/api/runs", new StringContent($"{{\"name\":\"kill trial {t}\",\"config\":{SmokeConfigJson(epochs)}}}", Encoding.UTF8, "application/json"));
                runId = (await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<RunInfo>(started.Content, MedZooServer.Json))?.Id ?? runId;
            }
            else
            {
                started = await client.PostAsync($"/api/runs/{runId}/resume", null);
                resumed = true;
            }
            if (!started.IsSuccessStatusCode)
                throw new InvalidOperationException($"trial {t}: starting or resuming the run answered {(int)started.StatusCode}: {await started.Content.ReadAsStringAsync()}");
            // Wait until it takes a training step, then a random moment within the next epochs (an epoch of the smoke
            // run is a few seconds here: steps, whole-volume validation, previews, the checkpoint and their database writes).
            var clock = Stopwatch.StartNew();
            var firstStep = resumed ? run!.GlobalStep : 0;
            while ((await MedZooServer.GetAsync<RunInfo>(client, $"/api/runs/{runId}")) is { } r && r.GlobalStep <= firstStep && !r.Status.IsFinished()
                   && clock.Elapsed < TimeSpan.FromMinutes(2))
                await Task.Delay(100);
            var delay = TimeSpan.FromMilliseconds(random.Next(maxDelayMs + 1));
            await Task.Delay(delay);
            var before = await MedZooServer.GetAsync<RunInfo>(client, $"/api/runs/{runId}");
            if (before.Status.IsFinished())
            {
                // The run ended before the kill: a kill of an idle server proves nothing, so it does not count.
                if (++missed > trials) throw new InvalidOperationException($"{missed} kills came after their run had ended; lengthen the runs");
                progress($"server trial {t}: run {runId} ended ({before.Status}) before the kill; not counted, trying again");
                t--;
                continue;
            }
            server.Kill();
            var state = $"{before.Status}, epoch {before.CurrentEpoch}, step {before.GlobalStep}, {before.EpochsCompleted} epochs done";
            var problems = new List<string>();
            TimeSpan restart;
            try
            {
                restart = await server.StartAsync(TimeSpan.FromMinutes(2));
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException)
            {
                results.Add(new KillTrial("server", t, clock.Elapsed, state, TimeSpan.Zero, [$"the server does not start again: {e.Message}"]));
                break;
            }
            using (var check = await server.SignInAsync())
            {
                var runs = await MedZooServer.GetAsync<List<RunInfo>>(check, "/api/runs");
                foreach (var r in runs) problems.AddRange(await RunInvariants.CheckAsync(check, r, CheckpointLoads));
                if (runs.FirstOrDefault(r => r.Id == runId) is { } after && after.Status != RunStatus.Completed && after.Status != RunStatus.Interrupted)
                    problems.Add($"run {runId} is {after.Status} after the restart, expected Interrupted (or Completed)");
            }
            client.Dispose();
            client = await server.SignInAsync();
            results.Add(new KillTrial("server", t, clock.Elapsed, state, restart, problems));
            progress($"server trial {t}: killed after {clock.Elapsed.TotalSeconds:0.0} s ({state}); {(problems.Count == 0 ? "sound" : string.Join("; ", problems))}");
        }
        // Resume every interrupted run that has a checkpoint to the end, then check every run once more (resumes must
        // not have duplicated anything). Runs killed before their first checkpoint have nothing to resume from.
        var final = new List<string>();
        foreach (var r in await MedZooServer.GetAsync<List<RunInfo>>(client, "/api/runs"))
        {
            if (r is not { Status: RunStatus.Interrupted, EpochsCompleted: > 0 }) continue;
            await client.PostAsync($"/api/runs/{r.Id}/resume", null);
            var clock = Stopwatch.StartNew();
            while (!(await MedZooServer.GetAsync<RunInfo>(client, $"/api/runs/{r.Id}")).Status.IsFinished() && clock.Elapsed < TimeSpan.FromMinutes(5)) await Task.Delay(200);
        }
        foreach (var r in await MedZooServer.GetAsync<List<RunInfo>>(client, "/api/runs"))
        {
            final.AddRange(await RunInvariants.CheckAsync(client, r, CheckpointLoads));
            if (r.Status != RunStatus.Completed && r.EpochsCompleted > 0) final.Add($"run {r.Id} ended {r.Status} after its last resume ({r.Reason})");
        }
        results.Add(new KillTrial("server, final", trials + 1, TimeSpan.Zero, "every run resumed to the end", TimeSpan.Zero, final));
        client.Dispose();
        return results;
    }

    private static int StepLines(string journals) =>
        Directory.Exists(journals)
            ? Directory.EnumerateFiles(journals).Sum(f =>
            {
                using var stream = new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(stream);
                var n = 0;
                while (reader.ReadLine() is { } line) if (line.Contains("\"type\":\"StepCompleted\"", StringComparison.Ordinal)) n++;
                return n;
            })
            : 0;

    public static async Task<List<KillTrial>> CliAsync(string medzoo, string work, int trials, int seed, Action<string> progress)
    {
        if (TorchRuntime.TryLoad() is { } why) throw new InvalidOperationException(why);
        var random = new Random(seed);
        var results = new List<KillTrial>();
        var data = Path.Combine(work, "cli-data");
        var output = Path.Combine(work, "cli-run");
        const string runId = "cli-kill-trials";
        for (var t = 1; t <= trials + 1; t++)
        {
            var last = t == trials + 1; // the last session trains to the end
            var resume = File.Exists(Path.Combine(output, "last.ckpt"));
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[]
                     {
                         medzoo, "train", "--model", "UNET3D_CICEK", "--base_filters", "8", "--depth", "2", "--dim", "16", "--batchSz", "2",
                         "--nEpochs", $"{CliEpochs}", "--samples_train", "8", "--samples_val", "2", "--lr", "0.01", "--seed", "1", "--synthetic_subjects", "5",
                         "--synthetic_size", "24", "--augmentation", "False", "--output", output, "--run_id", runId, "--data_dir", data,
                     })
                info.ArgumentList.Add(a);
            if (resume)
            {
                info.ArgumentList.Add("--resume");
                info.ArgumentList.Add("last");
            }
            var clock = Stopwatch.StartNew();
            using var p = ChildProcesses.Start(info);
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            var problems = new List<string>();
            if (last)
            {
                await p.WaitForExitAsync();
                ChildProcesses.Forget(p);
                if (p.ExitCode != 0) problems.Add($"the final resumed session exited {p.ExitCode}: {(await stderr).Trim()}");
                results.Add(new KillTrial("cli, final", t, clock.Elapsed, "resumed to the end", TimeSpan.Zero, problems));
                break;
            }
            // Wait for the session's first training step in the journal, then a random moment within the next epochs.
            var journals = Path.Combine(data, "journal");
            var stepsBefore = StepLines(journals);
            while (!p.HasExited && StepLines(journals) <= stepsBefore && clock.Elapsed < TimeSpan.FromMinutes(2)) await Task.Delay(100);
            await Task.Delay(TimeSpan.FromMilliseconds(random.Next(4_000)));
            if (p.HasExited)
            {
                // Trained to the end before the kill: nothing was cut short, so it does not count (and the run is done).
                problems.Add($"session {t} finished (exit {p.ExitCode}) before its kill: no kill -9 landed; lengthen the run");
                results.Add(new KillTrial("cli", t, clock.Elapsed, "had already exited", TimeSpan.Zero, problems));
                progress($"cli trial {t}: the session ended before the kill");
                break;
            }
            var state = $"training, {StepLines(journals)} step lines in its journals";
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
            ChildProcesses.Forget(p);
            // Every complete journal line parses; a torn last line is all a kill may leave.
            foreach (var journal in Directory.Exists(Path.Combine(data, "journal")) ? Directory.EnumerateFiles(Path.Combine(data, "journal")) : [])
            {
                var text = await File.ReadAllTextAsync(journal);
                var lines = text.Split('\n');
                for (var i = 0; i < lines.Length - 1; i++)
                    if (RunJournal.ParseLine(lines[i]) is (null, null))
                        problems.Add($"{Path.GetFileName(journal)} line {i + 1} does not parse: {lines[i][..Math.Min(80, lines[i].Length)]}");
            }
            var checkpoint = Path.Combine(output, "last.ckpt");
            if (File.Exists(checkpoint) && CheckpointLoads(await File.ReadAllBytesAsync(checkpoint)) is { } bad)
                problems.Add($"last.ckpt does not load: {bad}");
            results.Add(new KillTrial("cli", t, clock.Elapsed, state, TimeSpan.Zero, problems));
            progress($"cli trial {t}: killed after {clock.Elapsed.TotalSeconds:0.0} s ({state}); {(problems.Count == 0 ? "sound" : string.Join("; ", problems))}");
        }
        // A server on the same data folder imports the journals; the run must be complete and sound.
        using var server = new MedZooServer(medzoo, data);
        await server.StartAsync(TimeSpan.FromMinutes(2));
        using var client = await server.SignInAsync();
        var imported = new List<string>();
        var wait = Stopwatch.StartNew();
        RunInfo? run = null;
        while (wait.Elapsed < TimeSpan.FromMinutes(1) && (run = (await MedZooServer.GetAsync<List<RunInfo>>(client, "/api/runs")).FirstOrDefault(r => r.Id == runId)) is not { Status: RunStatus.Completed })
            await Task.Delay(250);
        if (run is null) imported.Add($"the server did not import run {runId}");
        else
        {
            if (run.Status != RunStatus.Completed) imported.Add($"run {runId} imported as {run.Status}, expected Completed");
            imported.AddRange(await RunInvariants.CheckAsync(client, run, CheckpointLoads));
        }
        results.Add(new KillTrial("cli, imported", trials + 2, wait.Elapsed, "journals imported by a server", TimeSpan.Zero, imported));
        return results;
    }
}
