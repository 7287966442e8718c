using System.Diagnostics;
using MedZoo.Tests.TestSupport;
using MedZoo.Web.Cli;
using MedZoo.Web.Persistence;

namespace MedZoo.Tests.Web.Cli;

public class CliAppTests
{
    [Theory]
    [InlineData("")]
    [InlineData("serve")]
    [InlineData("serve --urls http://127.0.0.1:5001")]
    [InlineData("--urls http://127.0.0.1:5001")]
    [InlineData("--urls=http://127.0.0.1:5001 --environment Development")]
    [InlineData("urls=http://127.0.0.1:5001")]
    public void IsCliInvocation_NoVerbOrServerOptionsOnly_StartsTheServer(string commandLine) =>
        Assert.False(CliApp.IsCliInvocation(Split(commandLine)));

    [Theory]
    [InlineData("frobnicate --x 1")]
    [InlineData("export")]
    [InlineData("trian")]
    [InlineData("--urls http://127.0.0.1:5001 frobnicate")]
    [InlineData("train --epochs 1")]
    [InlineData("help")]
    [InlineData("--help")]
    public void IsCliInvocation_AnyVerbKnownOrNot_IsNotTheServer(string commandLine) =>
        Assert.True(CliApp.IsCliInvocation(Split(commandLine)));

    private static string[] Split(string commandLine) => commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void Run_UnknownVerb_SaysSoListsTheVerbsAndExits2()
    {
        var output = new StringWriter();
        var error = new StringWriter();

        var code = CliApp.Run(["frobnicate", "--x", "1"], output, error);

        Assert.Equal(2, code);
        var text = error.ToString();
        Assert.Contains("unknown verb 'frobnicate'", text);
        Assert.DoesNotContain("did you mean", text);
        foreach (var verb in CliApp.Verbs) Assert.Contains($"  {verb.Name}", text);
        Assert.Contains("serve", text);
        Assert.Equal("", output.ToString());
    }

    [Theory]
    [InlineData("trian", "train")]
    [InlineData("infr", "infer")]
    [InlineData("modles", "models")]
    [InlineData("dataset", "dataset")]
    [InlineData("datasets", "dataset")]
    [InlineData("serv", "serve")]
    [InlineData("inspekt", "inspect")]
    [InlineData("exprot", "export")]
    [InlineData("imprt", "import")]
    public void ClosestVerb_Misspelt_SuggestsTheVerb(string word, string expected) =>
        Assert.Equal(expected, CliApp.ClosestVerb(word));

    [Theory]
    [InlineData("publish")]
    [InlineData("frobnicate")]
    [InlineData("x")]
    public void ClosestVerb_NothingClose_IsNull(string word) =>
        Assert.Null(CliApp.ClosestVerb(word));

    [Fact]
    public void Run_MisspeltVerb_SuggestsTheClosest()
    {
        var error = new StringWriter();

        var code = CliApp.Run(["trian", "--epochs", "1"], new StringWriter(), error);

        Assert.Equal(2, code);
        Assert.Contains("unknown verb 'trian'; did you mean 'train'?", error.ToString());
    }

    [Fact]
    public void Run_StrayWordAfterServerOptions_NamesTheWord()
    {
        var error = new StringWriter();

        var code = CliApp.Run(["--urls", "http://127.0.0.1:5001", "exprot"], new StringWriter(), error);

        Assert.Equal(2, code);
        Assert.Contains("unknown verb 'exprot'", error.ToString());
    }

    /// <summary>The executable itself: an unknown verb ends at once with exit code 2 instead of serving the dashboard.</summary>
    [Fact]
    public async Task Executable_UnknownVerb_ExitsWith2WithoutServing()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "medzoo.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: the test project copies the web executable next to the tests");
        using var data = TestPaths.NewTempFolder();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { dll, "frobnicate", "--x", "1" }) start.ArgumentList.Add(a);
        start.Environment[DataOptions.EnvironmentVariable] = data.Path;
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"'medzoo frobnicate --x 1' was still running after 60 s (it served the dashboard?): {await stdout}");
        }
        Assert.Equal(2, process.ExitCode);
        Assert.Contains("unknown verb 'frobnicate'", await stderr);
        Assert.False(File.Exists(Path.Combine(data.Path, "medzoo.db")), "the unknown verb opened the database");
    }
}
