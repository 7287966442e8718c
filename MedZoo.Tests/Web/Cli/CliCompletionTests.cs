using System.Diagnostics;
using MedZoo.Tests.TestSupport;
using MedZoo.Web.Cli;
using MedZoo.Web.Settings;

namespace MedZoo.Tests.Web.Cli;

/// <summary>
/// Tab completion: System.CommandLine's [suggest] directive answers from the verbs' own
/// declarations, in process and through scripts/medzoo-completion.bash run by bash against the
/// built medzoo.dll (as a user's shell would).
/// </summary>
public class CliCompletionTests
{
    private static string[] Suggest(string line)
    {
        var output = new StringWriter();
        var code = CliApp.Run([$"[suggest:{line.Length}]", line], output, new StringWriter());
        Assert.Equal(0, code);
        return output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    [Fact]
    public void Suggest_PartialVerb_CompletesIt() => Assert.Equal(["train"], Suggest("tr"));

    [Fact]
    public void Suggest_NoWord_ListsEveryVerbAndServe()
    {
        var words = Suggest("");
        foreach (var verb in CliApp.Verbs) Assert.Contains(verb.Name, words);
        Assert.Contains("serve", words);
    }

    [Fact]
    public void Suggest_PartialOption_CompletesMedicalZoosNames() => Assert.Contains("--batchSz", Suggest("train --bat"));

    [Fact]
    public void Suggest_OptionValue_ListsTheChoices()
    {
        Assert.Equal(["adam", "adamw", "rmsprop", "sgd"], Suggest("train --opt ").Order());
        Assert.Equal(["bench", "check", "list", "plan"], Suggest("dataset ").Where(w => char.IsLetter(w[0])).Order());
    }

    [Fact]
    public void IsCliInvocation_SuggestDirective_IsNotTheServer() =>
        Assert.True(CliApp.IsCliInvocation(["[suggest:2]", "tr"]));

    [SkippableFact]
    public async Task BashScript_TabAfterAPartialWord_CompletesFromTheExecutable()
    {
        Skip.IfNot(File.Exists("/bin/bash"), "bash is not installed");
        var dll = Path.Combine(AppContext.BaseDirectory, "medzoo.dll");
        var script = Path.Combine(TestPaths.RepositoryRoot, "scripts", "medzoo-completion.bash");
        using var data = TestPaths.NewTempFolder();
        const string Probe = """
            source "$SCRIPT"
            COMP_LINE="medzoo train --nEp"; COMP_POINT=${#COMP_LINE}; COMP_WORDS=(medzoo train --nEp); COMP_CWORD=2
            _medzoo_complete; printf 'A:%s\n' "${COMPREPLY[@]}"
            COMP_LINE="medzoo infer --blend "; COMP_POINT=${#COMP_LINE}; COMP_WORDS=(medzoo infer --blend ""); COMP_CWORD=3
            _medzoo_complete; printf 'B:%s\n' "${COMPREPLY[@]}"
            COMP_LINE="medzoo mod"; COMP_POINT=${#COMP_LINE}; COMP_WORDS=(medzoo mod); COMP_CWORD=1
            _medzoo_complete; printf 'C:%s\n' "${COMPREPLY[@]}"
            """;
        var start = new ProcessStartInfo("/bin/bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Probe);
        start.Environment["SCRIPT"] = script;
        start.Environment["MEDZOO_COMMAND"] = $"dotnet {dll}";
        start.Environment[DataOptions.EnvironmentVariable] = data.Path;
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = await process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(process.ExitCode == 0, await stderr);
        Assert.Equal(["A:--nEpochs"], lines.Where(l => l.StartsWith("A:", StringComparison.Ordinal)));
        Assert.Equal(["B:constant", "B:gaussian"], lines.Where(l => l.StartsWith("B:", StringComparison.Ordinal)).Order());
        Assert.Equal(["C:models"], lines.Where(l => l.StartsWith("C:", StringComparison.Ordinal)));
    }
}
