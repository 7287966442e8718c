using System.Diagnostics;
using MedZoo.Tests.TestSupport;

namespace MedZoo.Tests.Web;

/// <summary>
/// MedZoo.Web/NiiVue.targets run on its own (dotnet msbuild -t:NiiVueRestore) on a temporary folder,
/// with PATH chosen by the test: without npm the build warns and goes on, even with warnings as
/// errors; with an npm (a script that records its calls) it runs `npm ci --ignore-scripts` and
/// copies NiiVue's file only when the copy is missing or older than the lock file.
/// </summary>
public sealed class NiiVueTargetsTests
{
    private static string TargetsFile => Path.Combine(TestPaths.RepositoryRoot, "MedZoo.Web", "NiiVue.targets");

    private static string Dotnet()
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host)) return host;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
            if (File.Exists(Path.Combine(dir, "dotnet"))) return Path.Combine(dir, "dotnet");
        throw new InvalidOperationException("no dotnet executable: neither DOTNET_HOST_PATH nor PATH names one");
    }

    /// <summary>A project that imports the real targets file with its npm folder and output in <paramref name="folder"/>.</summary>
    private static string WriteProject(TempFolder folder)
    {
        File.Copy(Path.Combine(TestPaths.RepositoryRoot, "MedZoo.Web", "package.json"), folder.File("package.json"));
        File.Copy(Path.Combine(TestPaths.RepositoryRoot, "MedZoo.Web", "package-lock.json"), folder.File("package-lock.json"));
        var project = folder.File("niivue-test.proj");
        File.WriteAllText(project, $"""
            <Project>
              <PropertyGroup>
                <NiiVueNpmFolder>{folder.Path}</NiiVueNpmFolder>
                <NiiVueOutput>{folder.File("out/niivue.js")}</NiiVueOutput>
              </PropertyGroup>
              <Import Project="{TargetsFile}" />
              <Target Name="PrepareForBuild" />
            </Project>
            """);
        return project;
    }

    /// <summary>Runs NiiVueRestore with exactly <paramref name="path"/> as PATH; returns the exit code and what MSBuild printed.</summary>
    private static (int Code, string Output) Run(string project, string path, params string[] properties)
    {
        var info = new ProcessStartInfo(Dotnet())
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(project)!,
        };
        foreach (var a in new[] { "msbuild", project, "-t:NiiVueRestore", "-nologo", "-nodeReuse:false", "-v:n" }.Concat(properties)) info.ArgumentList.Add(a);
        // The test host's own MSBuild settings would point this build at the test's SDK internals.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList()) info.Environment.Remove(key);
        info.Environment["PATH"] = path;
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(120_000), "dotnet msbuild did not finish in 2 minutes");
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>A folder whose only commands are sh (MSBuild's Exec runs through it) and, when asked, a recording npm.</summary>
    private static string Bin(TempFolder folder, bool withNpm)
    {
        var bin = folder.File(withNpm ? "bin-npm" : "bin-bare");
        Directory.CreateDirectory(bin);
        File.CreateSymbolicLink(Path.Combine(bin, "sh"), "/bin/sh");
        if (withNpm)
        {
            var npm = Path.Combine(bin, "npm");
            File.WriteAllText(npm, $$"""
                #!/bin/sh
                echo "$*" >> '{{folder.File("npm-calls.log")}}'
                [ "$1" = "--version" ] && { echo 9.2.0; exit 0; }
                if [ "$1" = "ci" ]; then
                  /bin/mkdir -p node_modules/@niivue/niivue/dist
                  printf 'export { version: "from npm ci" };' > node_modules/@niivue/niivue/dist/index.js
                fi
                """.Replace("\r", ""));
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(npm, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return bin;
    }

    private static int CiCalls(TempFolder folder) =>
        File.Exists(folder.File("npm-calls.log")) ? File.ReadAllLines(folder.File("npm-calls.log")).Count(l => l.StartsWith("ci ", StringComparison.Ordinal)) : 0;

    [SkippableFact]
    public void NiiVueRestore_NpmMissing_WarnsNamingNpmAndSucceedsWithWarningsAsErrors()
    {
        Skip.If(OperatingSystem.IsWindows(), "the test builds a PATH of POSIX shell commands");
        using var folder = TestPaths.NewTempFolder();
        var project = WriteProject(folder);

        var (code, output) = Run(project, Bin(folder, withNpm: false), "-p:MSBuildTreatWarningsAsErrors=true", "-p:TreatWarningsAsErrors=true");

        Assert.True(code == 0, $"the build failed without npm (exit {code}):\n{output}");
        Assert.Contains("warning MZNPM1", output, StringComparison.Ordinal);
        Assert.Contains("npm is not installed", output, StringComparison.Ordinal);
        Assert.Contains("3D view is unavailable", output, StringComparison.Ordinal);
        Assert.False(File.Exists(folder.File("out/niivue.js")));
    }

    [SkippableFact]
    public void NiiVueRestore_WithNpm_RunsCiOnlyWhenTheCopyIsMissingOrOlderThanTheLock()
    {
        Skip.If(OperatingSystem.IsWindows(), "the test builds a PATH of POSIX shell commands");
        using var folder = TestPaths.NewTempFolder();
        var project = WriteProject(folder);
        var path = Bin(folder, withNpm: true) + ":/usr/bin:/bin";
        var output = folder.File("out/niivue.js");

        // No copy yet: npm ci (without install scripts), then the package's file is copied.
        var first = Run(project, path);
        Assert.True(first.Code == 0, first.Output);
        Assert.Equal(1, CiCalls(folder));
        Assert.Contains("ci --ignore-scripts", File.ReadAllText(folder.File("npm-calls.log")), StringComparison.Ordinal);
        Assert.Equal("export { version: \"from npm ci\" };", File.ReadAllText(output));
        Assert.True(File.GetLastWriteTimeUtc(output) >= File.GetLastWriteTimeUtc(folder.File("package-lock.json")));

        // Up to date: npm is not started at all.
        var second = Run(project, path);
        Assert.True(second.Code == 0, second.Output);
        Assert.Equal(1, CiCalls(folder));
        Assert.Single(File.ReadAllLines(folder.File("npm-calls.log")), l => l == "--version");

        // A newer lock file (another NiiVue version pinned): npm ci again.
        File.SetLastWriteTimeUtc(folder.File("package-lock.json"), DateTime.UtcNow.AddMinutes(1));
        var third = Run(project, path);
        Assert.True(third.Code == 0, third.Output);
        Assert.Equal(2, CiCalls(folder));

        // A missing copy: npm ci again.
        File.SetLastWriteTimeUtc(folder.File("package-lock.json"), DateTime.UtcNow.AddMinutes(-1));
        File.Delete(output);
        var fourth = Run(project, path);
        Assert.True(fourth.Code == 0, fourth.Output);
        Assert.Equal(3, CiCalls(folder));
        Assert.True(File.Exists(output));
    }
}
