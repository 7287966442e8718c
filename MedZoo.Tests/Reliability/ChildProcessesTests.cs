using System.Diagnostics;
using MedZoo.Reliability.Server;
using MedZoo.Tests.TestSupport;

namespace MedZoo.Tests.Reliability;

/// <summary>
/// Stopping the harness stops what it started: before, a load run stopped with Ctrl+C or SIGTERM left its
/// <c>medzoo.dll --urls</c> server training on, holding a core and skewing every later figure.
/// </summary>
public sealed class ChildProcessesTests
{
    [Fact]
    public void KillAll_RunningChild_KillsItAndForgetsIt()
    {
        var before = ChildProcesses.Count;
        using var p = ChildProcesses.Start(new ProcessStartInfo("sleep", "600") { UseShellExecute = false });
        Assert.Equal(before + 1, ChildProcesses.Count);

        Assert.True(ChildProcesses.KillAll() >= 1);

        Assert.True(p.WaitForExit(TimeSpan.FromSeconds(10)), "the child still runs");
        Assert.Equal(0, ChildProcesses.Count);
    }

    [Fact]
    public async Task Harness_TerminatedDuringALoadRun_LeavesNoServerBehind()
    {
        using var work = TestPaths.NewTempFolder();
        var dir = AppContext.BaseDirectory;
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[]
                 {
                     Path.Combine(dir, "medzoo-reliability.dll"), "load", "--clients", "1", "--browsers", "0", "--epochs", "100",
                     "--steps_per_epoch", "200", "--medzoo", Path.Combine(dir, "medzoo.dll"), "--work", work.Path,
                 })
            info.ArgumentList.Add(a);
        using var harness = Process.Start(info)!;
        var stderr = harness.StandardError.ReadToEndAsync();
        _ = harness.StandardOutput.ReadToEndAsync();
        try
        {
            // The server writes its log beside its data folder once started; its port names it.
            string? log = null;
            var clock = Stopwatch.StartNew();
            while (log is null && !harness.HasExited && clock.Elapsed < TimeSpan.FromMinutes(2))
            {
                log = Directory.EnumerateFiles(work.Path, "server-*.log").FirstOrDefault();
                if (log is null) await Task.Delay(100);
            }
            Assert.True(log is not null, $"no server started; harness: {(harness.HasExited ? await stderr : "still running")}");
            var urls = $"http://127.0.0.1:{Path.GetFileNameWithoutExtension(log)["server-".Length..]}";
            var server = await WaitForServerAsync(urls);
            Assert.True(server is not null, $"no process serves {urls}");

            using (var term = Process.Start("kill", ["-TERM", harness.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await term.WaitForExitAsync();
            Assert.True(harness.WaitForExit(TimeSpan.FromSeconds(30)), "the harness ignored SIGTERM");

            clock.Restart();
            while (!server.HasExited && clock.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(100);
            Assert.True(server.HasExited, $"the server (pid {server.Id}) outlived the harness");
        }
        finally
        {
            if (!harness.HasExited) harness.Kill(entireProcessTree: true);
        }
    }

    /// <summary>The dotnet process whose command line serves <paramref name="urls"/>, once it exists.</summary>
    private static async Task<Process?> WaitForServerAsync(string urls)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            foreach (var pid in Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsAsciiDigit)))
            {
                string cmdline;
                try
                {
                    cmdline = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
                }
                catch (IOException)
                {
                    continue;
                }
                catch (UnauthorizedAccessException)
                {
                    continue;
                }
                if (cmdline.Contains("medzoo.dll", StringComparison.Ordinal) && cmdline.Contains(urls, StringComparison.Ordinal))
                    return Process.GetProcessById(int.Parse(pid!, System.Globalization.CultureInfo.InvariantCulture));
            }
            await Task.Delay(100);
        }
        return null;
    }
}
