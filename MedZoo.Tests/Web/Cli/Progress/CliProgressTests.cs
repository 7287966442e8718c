using MedZoo.Web.Cli;
using MedZoo.Web.Cli.Progress;
using Spectre.Console.Testing;

namespace MedZoo.Tests.Web.Cli.Progress;

/// <summary>
/// Long verbs show a Spectre.Console bar on a terminal and plain lines when output is redirected:
/// both paths, for the display itself and through the dataset check and bench verbs.
/// </summary>
public class CliProgressTests
{
    private static TestConsole Terminal() => new TestConsole().Interactive().SupportsAnsi(true).Width(120);

    [Fact]
    public void Run_NoTerminal_PrintsALinePerTenthAndTheLinesItIsGiven()
    {
        var err = new StringWriter();
        var context = new CliContext(new StringWriter(), err, default);

        var result = CliProgress.Run(context, "predicting", display =>
        {
            Assert.False(display.IsTerminal);
            for (var i = 0; i <= 40; i++) display.Update(i, 40, "predicting", $"{i}/40 windows");
            display.Line("done");
            return 7;
        });

        Assert.Equal(7, result);
        var lines = err.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal([.. Enumerable.Range(0, 11).Select(t => $"predicting: {t * 10}%"), "done"], lines);
        Assert.DoesNotContain('\r', err.ToString());
    }

    [Fact]
    public void Run_Terminal_DrawsTheBarWithItsDetailAndKeepsLinesAboveIt()
    {
        using var console = Terminal();
        var err = new StringWriter();
        var context = new CliContext(new StringWriter(), err, default, console);

        CliProgress.Run(context, "predicting", display =>
        {
            Assert.True(display.IsTerminal);
            display.Line("volume read");
            for (var i = 0; i <= 40; i++) display.Update(i, 40, "predicting", $"{i}/40 windows");
            return 0;
        });

        var text = console.Output;
        Assert.Contains("volume read", text);
        Assert.Contains("predicting 40/40 windows", text);
        Assert.Contains("100%", text);
        Assert.DoesNotContain("predicting: 10%", text);
        Assert.Equal("", err.ToString()); // nothing leaks to the plain writer
    }

    [Fact]
    public void DatasetCheck_Terminal_ShowsABarOverTheSubjects()
    {
        using var console = Terminal();
        var output = new StringWriter();
        var err = new StringWriter();

        var code = CliApp.Run(["dataset", "check", "--subjects", "3", "--size", "16"], output, err, terminal: console);

        Assert.True(code == 0, err.ToString());
        Assert.Contains("checking subjects 3/3", console.Output);
        Assert.Contains("100%", console.Output);
        Assert.Contains("no problems found", output.ToString());
        Assert.DoesNotContain("checking subjects", err.ToString());
    }

    [Fact]
    public void DatasetCheck_Redirected_PrintsPlainProgressLines()
    {
        var output = new StringWriter();
        var err = new StringWriter();

        var code = CliApp.Run(["dataset", "check", "--subjects", "3", "--size", "16", "--json"], output, err);

        Assert.True(code == 0, err.ToString());
        Assert.Contains("checking subjects: 100%", err.ToString());
        Assert.DoesNotContain('\u001b', err.ToString());
        Assert.StartsWith("{", output.ToString().TrimStart(), StringComparison.Ordinal); // JSON stays clean on stdout
    }

    [Fact]
    public void Bench_Terminal_ShowsMeasurementsAboveTheBar()
    {
        using var console = Terminal();
        var output = new StringWriter();
        var err = new StringWriter();

        var code = CliApp.Run(["bench", "--json", "--only", "io", "--io_size", "8", "--io_repeats", "1"], output, err, terminal: console);

        Assert.True(code == 0, err.ToString());
        Assert.Contains("read sample.nii:", console.Output);
        Assert.Contains("benchmarking 2/2 measurements", console.Output);
        Assert.Contains("100%", console.Output);
        Assert.Equal("", err.ToString());
    }
}
