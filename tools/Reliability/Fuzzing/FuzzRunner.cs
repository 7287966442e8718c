using System.Collections.Concurrent;
using System.Diagnostics;

namespace MedZoo.Reliability.Fuzzing;

/// <summary>Settings of one fuzz run.</summary>
public sealed class FuzzOptions
{
    /// <summary>Inputs to generate.</summary>
    public int Count { get; set; } = 10_000;

    /// <summary>Seed of the mutations (the same seed gives the same inputs).</summary>
    public int Seed { get; set; } = 1;

    /// <summary>Time one input may take before it counts as hung.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Managed bytes one input may allocate before it counts against the memory bound.</summary>
    public long MaxAllocatedBytesPerInput { get; set; } = 256L * 1024 * 1024;

    /// <summary>Where crashing and hanging inputs are saved to reproduce them (null: not saved).</summary>
    public string? SaveFailuresTo { get; set; }

    public void Validate()
    {
        if (Count < 1) throw new ArgumentException($"Count must be at least 1, got {Count}");
        if (Timeout <= TimeSpan.Zero) throw new ArgumentException($"Timeout must be positive, got {Timeout}");
        if (MaxAllocatedBytesPerInput < 1) throw new ArgumentException($"MaxAllocatedBytesPerInput must be positive, got {MaxAllocatedBytesPerInput}");
    }
}

/// <summary>Counts of one fuzz run, with examples of every outcome that needs attention.</summary>
public sealed record FuzzReport(
    string Kind, string Description, int Count, int Seed, IReadOnlyDictionary<FuzzOutcome, int> Outcomes,
    int OverMemoryBound, long MaxAllocatedBytes, long PeakWorkingSetBytes, long StartWorkingSetBytes, TimeSpan Elapsed, TimeSpan SlowestInput,
    IReadOnlyList<string> Crashes, IReadOnlyList<string> Unclear, IReadOnlyList<string> RefusalSamples)
{
    public int Of(FuzzOutcome o) => Outcomes.TryGetValue(o, out var n) ? n : 0;
}

/// <summary>
/// Runs a <see cref="FuzzTarget"/> over mutated inputs, one at a time on a worker thread: each input under a
/// time limit (a hung input abandons its worker and a new one takes over), its managed allocations counted
/// (<see cref="GC.GetAllocatedBytesForCurrentThread"/>), the process's working set sampled after each.
/// </summary>
public static class FuzzRunner
{
    private const int ExamplesKept = 12;

    public static FuzzReport Run(FuzzTarget target, FuzzOptions options, Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var mutator = new Mutator(options.Seed);
        var outcomes = Enum.GetValues<FuzzOutcome>().ToDictionary(o => o, _ => 0);
        var crashes = new Dictionary<string, string>(StringComparer.Ordinal); // signature -> example
        var unclear = new Dictionary<string, string>(StringComparer.Ordinal);
        var refusals = new List<string>();
        var overMemory = 0;
        long maxAllocated = 0;
        var slowest = TimeSpan.Zero;
        using var process = Process.GetCurrentProcess();
        var startWorkingSet = Environment.WorkingSet;
        var peak = startWorkingSet;
        var worker = new Worker();
        var clock = Stopwatch.StartNew();
        try
        {
            for (var i = 0; i < options.Count; i++)
            {
                var seed = target.Seeds[i % target.Seeds.Count];
                var input = target.Mutate(seed, mutator);
                var folder = Path.Combine(target.WorkDirectory, "input");
                var job = worker.Submit(() => target.Run(input, folder));
                var started = Stopwatch.StartNew();
                if (!job.Done.Wait(options.Timeout))
                {
                    outcomes[FuzzOutcome.Hung]++;
                    Save(options, target, i, input, "hung");
                    crashes.TryAdd($"hung #{i}", $"input #{i} still running after {options.Timeout.TotalSeconds:0} s");
                    worker = new Worker(); // the old one stays stuck on the input; it is a background thread
                    continue;
                }
                if (started.Elapsed > slowest) slowest = started.Elapsed;
                maxAllocated = Math.Max(maxAllocated, job.Allocated);
                if (job.Allocated > options.MaxAllocatedBytesPerInput) overMemory++;
                peak = Math.Max(peak, Environment.WorkingSet);
                if (job.Error is { } e)
                {
                    outcomes[FuzzOutcome.Crashed]++;
                    var signature = Signature(e);
                    if (crashes.Count < ExamplesKept && crashes.TryAdd(signature, $"input #{i}: {e.GetType().FullName}: {e.Message}\n    at {Frame(e)}"))
                        Save(options, target, i, input, "crash");
                    continue;
                }
                var verdict = job.Verdict!;
                outcomes[verdict.Outcome]++;
                if (verdict.Outcome == FuzzOutcome.RefusedUnclear && unclear.Count < ExamplesKept)
                    unclear.TryAdd(Shorten(verdict.Detail, 60), $"input #{i}: {Shorten(verdict.Detail, 300)}");
                if (verdict.Outcome == FuzzOutcome.Refused && refusals.Count < ExamplesKept && !refusals.Any(r => r.StartsWith(Shorten(verdict.Detail, 40), StringComparison.Ordinal)))
                    refusals.Add(Shorten(verdict.Detail, 200));
                if ((i + 1) % 1000 == 0) progress?.Invoke($"{target.Kind}: {i + 1}/{options.Count}");
            }
        }
        finally
        {
            worker.Complete();
        }
        return new FuzzReport(target.Kind, target.Description, options.Count, options.Seed, outcomes, overMemory, maxAllocated, peak, startWorkingSet,
            clock.Elapsed, slowest, crashes.Values.ToList(), unclear.Values.ToList(), refusals);
    }

    private static string Signature(Exception e) => $"{e.GetType().FullName} at {Frame(e)}";

    private static string Frame(Exception e)
    {
        var frame = new StackTrace(e, fNeedFileInfo: false).GetFrames().FirstOrDefault(f => f.GetMethod()?.DeclaringType?.Namespace?.StartsWith("MedZoo.", StringComparison.Ordinal) == true)
                    ?? new StackTrace(e).GetFrame(0);
        var m = frame?.GetMethod();
        return m is null ? "?" : $"{m.DeclaringType?.FullName}.{m.Name}";
    }

    private static string Shorten(string s, int n) => s.Length <= n ? s : s[..n] + "…";

    private static void Save(FuzzOptions options, FuzzTarget target, int index, FuzzInput input, string what)
    {
        if (options.SaveFailuresTo is null) return;
        var folder = Path.Combine(options.SaveFailuresTo, $"{target.Kind}-{what}-{index}");
        Directory.CreateDirectory(folder);
        foreach (var (name, bytes) in input.Files) File.WriteAllBytes(Path.Combine(folder, name.Replace(':', '_')), bytes);
    }

    private sealed class Job(Func<FuzzVerdict> run)
    {
        public Func<FuzzVerdict> RunInput { get; } = run;
        public ManualResetEventSlim Done { get; } = new();
        public FuzzVerdict? Verdict { get; set; }
        public Exception? Error { get; set; }
        public long Allocated { get; set; }
    }

    // One long-lived thread runs the inputs, so that per-thread allocation counts are the input's own.
    private sealed class Worker
    {
        private readonly BlockingCollection<Job> _jobs = new();

        public Worker()
        {
            var thread = new Thread(Loop) { IsBackground = true, Name = "fuzz worker" };
            thread.Start();
        }

        public Job Submit(Func<FuzzVerdict> run)
        {
            var job = new Job(run);
            _jobs.Add(job);
            return job;
        }

        public void Complete() => _jobs.CompleteAdding();

        private void Loop()
        {
            foreach (var job in _jobs.GetConsumingEnumerable())
            {
                var before = GC.GetAllocatedBytesForCurrentThread();
                try
                {
                    job.Verdict = job.RunInput();
                }
#pragma warning disable CA1031 // every exception a reader lets out is what the fuzzer counts
                catch (Exception e)
#pragma warning restore CA1031
                {
                    job.Error = e;
                }
                job.Allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                job.Done.Set();
            }
        }
    }
}
