using System.Text.Json;
using MedZoo.Tests.Engine.Data.Datasets;
using MedZoo.Tests.TestSupport;
using MedZoo.Web.Cli;

namespace MedZoo.Tests.Web.Cli.Verbs;

public class DatasetVerbTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = CliApp.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void Check_SyntheticJson_ReportsSubjectsModalitiesClassesAndCounts()
    {
        var (code, stdout, stderr) = Run("dataset", "check", "--name", "synthetic", "--subjects", "3", "--size", "24", "24", "24", "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal(3, root.GetProperty("subjects").GetInt32());
        Assert.Equal(["T1", "T2"], root.GetProperty("modalities").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(["background", "CSF", "grey matter", "white matter"], root.GetProperty("classes").EnumerateArray().Select(m => m.GetString()));
        var counts = root.GetProperty("labelCounts");
        Assert.Equal(3L * 24 * 24 * 24, Enumerable.Range(0, 4).Sum(c => counts.GetProperty(c.ToString()).GetInt64()));
        Assert.All(Enumerable.Range(1, 3), c => Assert.True(counts.GetProperty(c.ToString()).GetInt64() > 0));
        Assert.Equal(0, root.GetProperty("errors").GetArrayLength());
        Assert.Equal([24, 24, 24], root.GetProperty("subjectDetails")[0].GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()));
        Assert.Contains("1 CSF ← {1}", stdout); // readable as printed, not "\u2190"
    }

    [Fact]
    public void Check_BrokenLayoutJson_ExitsNonZeroNamingSubjectAndFile()
    {
        using var dir = TestPaths.NewTempFolder();
        foreach (var f in new[] { "subject-1-T1.hdr", "subject-1-T1.img", "subject-1-label.hdr", "subject-1-label.img", "subject-2-T2.hdr" })
            File.WriteAllBytes(dir.File(f), []);
        var (code, stdout, _) = Run("dataset", "check", "--name", "iseg2017", "--path", dir.Path, "--json");
        Assert.Equal(1, code);
        using var doc = JsonDocument.Parse(stdout);
        var errors = doc.RootElement.GetProperty("errors").EnumerateArray().Select(e => e.GetString()!).ToArray();
        Assert.Contains(errors, e => e.Contains("subject 'subject-1'") && e.Contains(Path.Combine(dir.Path, "subject-1-T2.hdr")));
        Assert.Contains(errors, e => e.Contains("subject 'subject-2'") && e.Contains("subject-2-T2.img"));
    }

    [Fact]
    public void Check_ChallengeLayoutWithBadLabel_ReportsTheOthersAndNamesTheFile()
    {
        using var dir = TestPaths.NewTempFolder();
        ISegDatasetTests.WriteSubjects(dir.Path, [1, 2, 3]);
        var label = File.ReadAllBytes(Path.Combine(dir.Path, "subject-3-label.img"));
        label[0] = 77;
        File.WriteAllBytes(Path.Combine(dir.Path, "subject-3-label.img"), label);
        var (code, stdout, _) = Run("dataset", "check", "--name", "iseg2017", "--path", dir.Path, "--json");
        Assert.Equal(1, code);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal(3, root.GetProperty("subjects").GetInt32());
        Assert.Equal(2, root.GetProperty("loaded").GetInt32());
        var error = Assert.Single(root.GetProperty("errors").EnumerateArray()).GetString()!;
        Assert.Contains("subject 'subject-3'", error);
        Assert.Contains("subject-3-label.hdr", error);
        Assert.Contains("77 (1 voxels)", error);
        Assert.Equal([1.0, 1.0, 1.0], root.GetProperty("subjectDetails")[0].GetProperty("spacing").EnumerateArray().Select(v => v.GetDouble()));
    }

    [Fact]
    public void Check_Text_ListsClassesAndSaysNoProblems()
    {
        var (code, stdout, _) = Run("dataset", "check", "--subjects", "2", "--size", "20", "20", "20");
        Assert.Equal(0, code);
        Assert.Contains("modalities: T1, T2", stdout);
        Assert.Contains("3 white matter", stdout);
        Assert.Contains("no problems found", stdout);
    }

    [Fact]
    public void Check_MissingFolder_ExitsNonZero()
    {
        var (code, stdout, stderr) = Run("dataset", "check", "--name", "brats2020", "--path", "/nonexistent/brats");
        Assert.Equal(1, code);
        Assert.Contains("does not exist", stdout);
        Assert.Contains("problem", stderr);
    }

    [Theory]
    [InlineData(new[] { "dataset", "check", "--name", "nope" }, "unknown dataset 'nope'")]
    [InlineData(new[] { "dataset", "check", "--name", "iseg2017" }, "Path")]
    [InlineData(new[] { "dataset", "frobnicate" }, "unknown action")]
    [InlineData(new[] { "dataset" }, "check, list, bench or plan")]
    [InlineData(new[] { "dataset", "check", "list" }, "unexpected argument 'list'")]
    public void Run_BadInput_IsUsageError(string[] args, string message)
    {
        var (code, _, stderr) = Run(args);
        Assert.Equal(2, code);
        Assert.Contains(message, stderr);
        Assert.Contains("usage: medzoo dataset check|list|bench|plan [options]", stderr);
    }

    [Fact]
    public void List_ShowsEveryCatalogName()
    {
        var (code, stdout, _) = Run("dataset", "list");
        Assert.Equal(0, code);
        foreach (var name in new[] { "synthetic", "synthetic_tumour", "iseg2017", "iseg2019", "mrbrains2018", "mrbrains2018_4", "brats2018", "brats2019", "brats2020", "decathlon", "nnunet" })
            Assert.Contains(name, stdout);
    }

    [Fact]
    public void Bench_Json_ReportsPatchesPerSecond()
    {
        var (code, stdout, stderr) = Run("dataset", "bench", "--subjects", "2", "--size", "24", "24", "24", "--dim", "16", "16", "16", "--batches", "4", "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(8, doc.RootElement.GetProperty("patches").GetInt64());
        Assert.True(doc.RootElement.GetProperty("patchesPerSecond").GetDouble() > 0);
    }
}
