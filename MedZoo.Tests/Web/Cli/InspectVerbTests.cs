using System.Text.Json;
using MedZoo.Engine.IO;
using MedZoo.Tests.Engine.IO;
using MedZoo.Tests.TestSupport;
using MedZoo.Web.Cli;

namespace MedZoo.Tests.Web.Cli;

public class InspectVerbTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = CliApp.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [SkippableFact]
    public void Run_JsonOnRealBrain_AgreesWithNibabel()
    {
        var entry = NibabelReference.Require("files|usr/share/mricron/templates/ch2.nii.gz");

        var (code, stdout, stderr) = Run("inspect", entry.FullPath, "--json");

        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        Assert.Single(stdout.TrimEnd('\n').Split('\n'));
        var json = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal("nifti1", json.GetProperty("format").GetString());
        Assert.Equal("uint8", json.GetProperty("datatype").GetString());
        Assert.Equal("RAS", json.GetProperty("orientation").GetString());
        Assert.Equal(entry.Shape, json.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()));
        Assert.Equal(entry.Spacing, json.GetProperty("spacing").EnumerateArray().Select(x => x.GetDouble()));
        var affine = json.GetProperty("affine").EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetDouble()).ToArray()).ToArray();
        Assert.Equal(4, affine.Length);
        Assert.All(affine, row => Assert.Equal(4, row.Length));
        Assert.Equal(entry.Affine, affine.SelectMany(r => r));
        Assert.Equal(entry.NanCount, json.GetProperty("nanCount").GetInt64());
        Assert.Equal(entry.Min!.Value, json.GetProperty("min").GetDouble());
        Assert.Equal(entry.Max!.Value, json.GetProperty("max").GetDouble());
        Assert.Equal(entry.Sum!.Value, json.GetProperty("sum").GetDouble());
        Assert.Equal(entry.Mean!.Value, json.GetProperty("mean").GetDouble(), 1e-9 * entry.Mean.Value);
    }

    [Fact]
    public void Run_Text_SummarisesFormatShapeAndValues()
    {
        using var tmp = TestPaths.NewTempFolder();
        var path = tmp.File("small.nii.gz");
        VolumeIO.Write(Volume.FromArray<short>([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2], VolumeGeometry.FromSpacing(0.5, 0.5, 2)), path);

        var (code, stdout, _) = Run("inspect", path);

        Assert.Equal(0, code);
        Assert.Contains("NIfTI-1 (little-endian, gzip)", stdout);
        Assert.Contains("2 × 2 × 2", stdout);
        Assert.Contains("0.5 × 0.5 × 2", stdout);
        Assert.Contains("min 1  max 8  mean 4.5  sum 36", stdout);
    }

    [Fact]
    public void Run_JsonWithoutFiniteValues_WritesNullStatistics()
    {
        using var tmp = TestPaths.NewTempFolder();
        var path = tmp.File("nan.mha");
        VolumeIO.Write(Volume.FromArray<float>([float.NaN, float.NaN], [2, 1, 1]), path);

        var (code, stdout, _) = Run("inspect", path, "--json");

        Assert.Equal(0, code);
        var json = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal("metaimage", json.GetProperty("format").GetString());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("min").ValueKind);
        Assert.Equal(2, json.GetProperty("nanCount").GetInt64());
    }

    [Fact]
    public void Run_CorruptFile_PrintsOneLineNamingProblemAndExitsNonZero()
    {
        using var tmp = TestPaths.NewTempFolder();
        var bytes = VolumeIOBadInputTests.ValidNifti1();
        BitConverter.TryWriteBytes(bytes.AsSpan(42), (short)-3);
        File.WriteAllBytes(tmp.File("broken.nii"), bytes);

        var (code, stdout, stderr) = Run("inspect", tmp.File("broken.nii"), "--json");

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Equal("medzoo inspect: error: broken.nii: NIfTI header dim[1]=-3 must be positive", stderr.TrimEnd());
    }

    [Fact]
    public void Run_MissingFile_SaysSoAndExitsNonZero()
    {
        using var tmp = TestPaths.NewTempFolder();

        var (code, _, stderr) = Run("inspect", tmp.File("nowhere.nii.gz"));

        Assert.Equal(1, code);
        Assert.Contains("nowhere.nii.gz: no such file", stderr);
        Assert.DoesNotContain(" at ", stderr);
    }

    [Theory]
    [InlineData]
    [InlineData("a.nii", "b.nii")]
    public void Run_WrongNumberOfFiles_IsUsageError(params string[] files)
    {
        var (code, _, stderr) = Run(["inspect", .. files]);

        Assert.Equal(2, code);
        Assert.Contains("usage: medzoo inspect FILE", stderr);
    }
}
