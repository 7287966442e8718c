using MedZoo.Reliability.Server;
using MedZoo.Tests.TestSupport;
using Xunit.Abstractions;

namespace MedZoo.Tests.Reliability;

/// <summary>
/// The short version of the kill -9 trials (scripts/reliability.sh runs 20 on the server and 10 on the command line):
/// the real medzoo (the build in this test's folder) killed with SIGKILL as its run takes its first training step,
/// restarted on the same data folder, and checked through its HTTP API.
/// </summary>
public sealed class KillTrialTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Server_KilledWhileTraining_RestartsWithEveryRunSound()
    {
        using var folder = TestPaths.NewTempFolder();
        var medzoo = Path.Combine(AppContext.BaseDirectory, "medzoo.dll");

        var trials = await KillTrials.ServerAsync(medzoo, folder.Path, trials: 1, seed: 1, output.WriteLine, epochs: 2, maxDelayMs: 0);

        var kill = Assert.Single(trials, t => t.Kind == "server");
        output.WriteLine($"killed after {kill.KilledAfter.TotalSeconds:0.0} s ({kill.StateAtKill}); restart {kill.RestartTook.TotalSeconds:0.0} s");
        Assert.StartsWith("Running", kill.StateAtKill);
        Assert.True(kill.RestartTook > TimeSpan.Zero);
        Assert.All(trials, t => Assert.True(t.Problems.Count == 0, $"{t.Kind} {t.Number}: {string.Join("; ", t.Problems)}"));
    }
}
