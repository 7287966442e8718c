using System.Globalization;
using System.Text;
using MedZoo.Reliability.Fuzzing;

namespace MedZoo.Reliability;

/// <summary>The report's markdown: each figure with its conditions (command, trials, CPU, what was counted).</summary>
public static class Markdown
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The CPU model as /proc/cpuinfo names it, and the cores this process may use.</summary>
    public static string Machine()
    {
        var model = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
        return $"{model ?? "unknown CPU"}, {Environment.ProcessorCount} cores available, load average {load} at the start, .NET {Environment.Version}";
    }

    /// <summary>The conditions line every section starts with.</summary>
    public static string Conditions(string command) =>
        $"- Command: `{command}`\n- Machine: {Machine()}\n- Date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC\n";

    public static string MiB(long bytes) => (bytes / 1024.0 / 1024.0).ToString("0.0", Inv) + " MiB";

    /// <summary>A table of fuzz reports, then the examples of crashes and unclear refusals.</summary>
    public static string Fuzz(IReadOnlyList<FuzzReport> reports, string command, FuzzOptions options)
    {
        var sb = new StringBuilder();
        sb.AppendLine("## Fuzzing").AppendLine();
        sb.Append(Conditions(command));
        sb.AppendLine(CultureInfo.InvariantCulture, $"- Counted: every mutated input (bit flips, byte insertions and deletions, interesting integers and floats over header fields in either byte order, truncation; hostile JSON values and text tokens) fed once to the real reader on one worker thread; *hung* = not done within {options.Timeout.TotalSeconds:0} s; *allocated* = managed bytes the input's thread allocated; *over bound* = inputs allocating more than {MiB(options.MaxAllocatedBytesPerInput)}; working set = the process's resident memory.");
        sb.AppendLine();
        sb.AppendLine("| kind | inputs | accepted | refused | refused, unclear message | crashed | hung | over memory bound | max allocated per input | working set start → peak | time (slowest input) |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in reports)
            sb.AppendLine(Inv, $"| {r.Kind} | {r.Count} | {r.Of(FuzzOutcome.Accepted)} | {r.Of(FuzzOutcome.Refused)} | {r.Of(FuzzOutcome.RefusedUnclear)} | {r.Of(FuzzOutcome.Crashed)} | {r.Of(FuzzOutcome.Hung)} | {r.OverMemoryBound} | {MiB(r.MaxAllocatedBytes)} | {MiB(r.StartWorkingSetBytes)} → {MiB(r.PeakWorkingSetBytes)} | {r.Elapsed.TotalSeconds:0.0} s ({r.SlowestInput.TotalMilliseconds:0} ms) |");
        sb.AppendLine();
        foreach (var r in reports)
        {
            sb.AppendLine(Inv, $"**{r.Kind}**: {r.Description}.");
            if (r.Crashes.Count > 0)
            {
                sb.AppendLine().AppendLine("Crashes (one example per exception type and place):").AppendLine("```");
                foreach (var c in r.Crashes) sb.AppendLine(c);
                sb.AppendLine("```");
            }
            if (r.Unclear.Count > 0)
            {
                sb.AppendLine().AppendLine("Refusals without a clear message (examples):").AppendLine("```");
                foreach (var c in r.Unclear) sb.AppendLine(c);
                sb.AppendLine("```");
            }
            if (r.RefusalSamples.Count > 0)
            {
                sb.AppendLine().AppendLine("Sample refusals:").AppendLine("```");
                foreach (var c in r.RefusalSamples.Take(5)) sb.AppendLine(c);
                sb.AppendLine("```");
            }
            sb.AppendLine();
        }
        return sb.ToString();
    }

    public static string KillTrials(IReadOnlyList<Server.KillTrial> trials, string command)
    {
        var sb = new StringBuilder();
        sb.AppendLine("## kill -9").AppendLine();
        sb.Append(Conditions(command));
        sb.AppendLine("- Counted: each SIGKILL of the real `medzoo` (server training the smoke preset with 30 epochs of 4 steps, killed 0–6 s after the (re)started run's first step; or `medzoo train` of 200 epochs writing its journal, killed 0–4 s after the session's first step) at a random moment; only kills that land while the run trains count (a run that ended first is started again, and the kill retried); after each, a restart on the same data folder checked through the HTTP API: the database opens, every run is completed or interrupted and resumable, no step or epoch point is duplicated or missing below the last one, the last checkpoint loads into the network its header describes and is at most one epoch behind the recorded epochs. Server runs are then resumed (POST /api/runs/{id}/resume) and killed again; command-line runs resume with `--resume last`, and a server finally imports their journals.").AppendLine();
        var kills = trials.Where(t => t.Kind is "server" or "cli").ToList();
        foreach (var kind in new[] { "server", "cli" })
        {
            var k = kills.Where(t => t.Kind == kind).ToList();
            if (k.Count == 0) continue;
            var restart = kind == "server" ? string.Create(Inv, $"; restart to serving: median {Median(k.Select(t => t.RestartTook.TotalSeconds)):0.0} s, max {k.Max(t => t.RestartTook.TotalSeconds):0.0} s") : "";
            sb.AppendLine(Inv, $"- **{kind}**: {k.Count} kills, {k.Count(t => t.Problems.Count == 0)} sound after restart{restart}");
        }
        foreach (var f in trials.Where(t => t.Kind.Contains(',', StringComparison.Ordinal)))
            sb.AppendLine(Inv, $"- **{f.Kind}** ({f.StateAtKill}): {(f.Problems.Count == 0 ? "sound" : string.Join("; ", f.Problems))}");
        sb.AppendLine().AppendLine("| trial | killed after | state at the kill | restart | problems |").AppendLine("|---|---:|---|---:|---|");
        foreach (var t in kills)
            sb.AppendLine(Inv, $"| {t.Kind} {t.Number} | {t.KilledAfter.TotalSeconds:0.0} s | {t.StateAtKill} | {(t.RestartTook > TimeSpan.Zero ? $"{t.RestartTook.TotalSeconds:0.0} s" : "")} | {(t.Problems.Count == 0 ? "none" : string.Join("; ", t.Problems).Replace("|", "\\|", StringComparison.Ordinal))} |");
        sb.AppendLine();
        return sb.ToString();
    }

    public static string Attack(Server.AttackResult r, string command)
    {
        var sb = new StringBuilder();
        sb.AppendLine("## Attack on sign-in").AppendLine();
        sb.Append(Conditions(command));
        sb.AppendLine(Inv, $"- Counted: {r.Clients} parallel clients posting the sign-in form with wrong passwords for {r.Duration.TotalSeconds:0} s (each with its own cookie jar and antiforgery token), every answer they got; meanwhile one signed-in user's `GET /api/runs`, one request after another: latency percentiles, and the same for 5 s before the attack. The attackers and the server share this machine's cores.");
        sb.AppendLine();
        sb.AppendLine(Inv, $"- Signed-in user during the attack: {r.UserLatenciesMs.Count} requests, p50 {Server.AttackResult.Percentile(r.UserLatenciesMs, 0.5):0} ms, p99 {Server.AttackResult.Percentile(r.UserLatenciesMs, 0.99):0} ms, max {(r.UserLatenciesMs.Count == 0 ? 0 : r.UserLatenciesMs.Max()):0} ms, {r.UserErrors} errors (quiet: p50 {Server.AttackResult.Percentile(r.QuietLatenciesMs, 0.5):0} ms, p99 {Server.AttackResult.Percentile(r.QuietLatenciesMs, 0.99):0} ms)");
        sb.AppendLine(Inv, $"- Wrong-password posts: {r.AttackRequests} ({r.AttackRequests / Math.Max(1, r.Duration.TotalSeconds):0} per second); answers: {string.Join(", ", r.AttackAnswers.OrderByDescending(a => a.Value).Select(a => $"{a.Key}: {a.Value}"))}");
        sb.AppendLine(Inv, $"- Limiter answering (429): {(r.AttackAnswers.Keys.Any(k => k.StartsWith("429", StringComparison.Ordinal)) ? "yes" : "no")}");
        sb.AppendLine();
        return sb.ToString();
    }

    public static string Load(Server.LoadResult r, string command)
    {
        var sb = new StringBuilder();
        sb.AppendLine("## Live viewers").AppendLine();
        sb.Append(Conditions(command));
        sb.AppendLine(Inv, $"- Counted: the same smoke run ({r.Epochs} epochs, {r.StepsPerRun} steps) trained unwatched, then watched by {r.Clients} SignalR clients of the typed hub and {r.Browsers.Count} headless Chromium pages (each signed in through the sign-in form as the admin, open on the run's page `/runs/{{id}}` from its start) on this machine; mean step time from the trainer's own per-step seconds; EpochCompleted events per client; the epoch each browser's run page showed at the end (`#run-epoch`, read from the live page without reloading it); the server's VmRSS every 500 ms during the watched run. Clients, browsers, server and trainer share the cores.");
        sb.AppendLine(Inv, $"- Memory is judged after a warm-up: the first 10 % of the watched run or its first 60 s, whichever is shorter (here {r.WarmupSeconds:0.0} s); resident memory rises to the run's peak early by design (README \"Native memory\"). Flat means every settled sample within ±10 % of the settled mean.");
        sb.AppendLine();
        sb.AppendLine(Inv, $"- Step time: unwatched {r.UnwatchedStepSeconds:0.000} s, watched {r.WatchedStepSeconds:0.000} s ({(r.WatchedStepSeconds / r.UnwatchedStepSeconds - 1) * 100:+0.0;-0.0} %)");
        sb.AppendLine(Inv, $"- Clients that received every epoch ({r.Epochs}): {r.EpochEventsPerClient.Count(n => n == r.Epochs)} of {r.Clients} (min {(r.EpochEventsPerClient.Count == 0 ? 0 : r.EpochEventsPerClient.Min())})");
        sb.AppendLine(Inv, $"- Browsers whose run page showed the final epoch ({r.Epochs} / {r.Epochs}): {r.Browsers.Count(b => b.SawFinalEpoch)} of {r.Browsers.Count}");
        foreach (var (b, i) in r.Browsers.Select((b, i) => (b, i)).Where(x => !x.b.SawFinalEpoch))
            sb.AppendLine(Inv, $"  - browser {i + 1} showed \"{b.EpochText}\"");
        var all = r.ServerRss.Select(s => s.Bytes).ToList();
        var settled = r.SettledRss;
        if (all.Count > 0)
            sb.AppendLine(Inv, $"- Server resident memory: {all.Count} samples over {r.ServerRss[^1].Seconds:0} s, first {MiB(all[0])}, last {MiB(all[^1])}, min {MiB(all.Min())}, max {MiB(all.Max())}");
        if (settled.Count > 0)
        {
            var mean = settled.Average();
            sb.AppendLine(Inv, $"- After the warm-up: {settled.Count} samples, mean {MiB((long)mean)}, spread around the mean {(settled.Min() - mean) / mean * 100:+0.0;-0.0} % / {(settled.Max() - mean) / mean * 100:+0.0;-0.0} % ({(r.RssFlat() ? "flat" : "not flat")} within ±10 %)");
        }
        sb.AppendLine();
        return sb.ToString();
    }

    private static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToList();
        return v.Count == 0 ? 0 : v[v.Count / 2];
    }

    public static string Bomb(IReadOnlyList<BombResult> results, string command)
    {
        var sb = new StringBuilder();
        sb.AppendLine("## Decompression bomb").AppendLine();
        sb.Append(Conditions(command));
        sb.AppendLine("- Counted: time to the answer, managed bytes allocated by the reading thread, growth of the process's resident memory (sampled every 20 ms) over the read.").AppendLine();
        sb.AppendLine("| bomb | reader | file | header claims | answer | time | allocated | resident growth |");
        sb.AppendLine("|---|---|---:|---:|---|---:|---:|---:|");
        foreach (var r in results)
            sb.AppendLine(Inv, $"| {r.Case} | {r.Reader} | {MiB(r.FileBytes)} | {MiB(r.ClaimedBytes)} | {r.Outcome.Replace("|", "\\|", StringComparison.Ordinal)} | {r.Elapsed.TotalMilliseconds:0} ms | {MiB(r.AllocatedBytes)} | {MiB(r.WorkingSetGrowthBytes)} |");
        sb.AppendLine();
        return sb.ToString();
    }
}
