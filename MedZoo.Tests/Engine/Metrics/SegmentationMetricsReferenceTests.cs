using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MedZoo.Engine.Metrics;
using MedZoo.Tests.TestSupport;

namespace MedZoo.Tests.Engine.Metrics;

/// <summary>
/// Compares the metrics with an independent computation by scipy.ndimage (Debian's python3-scipy under
/// /usr/bin/python3, script surface_reference.py next to this file) on random blobs with anisotropic
/// spacing. Skipped, saying why, where that interpreter or scipy is missing.
/// </summary>
public class SegmentationMetricsReferenceTests
{
    private const string Python = "/usr/bin/python3";
    private static readonly VolumeShape Shape = new(20, 34, 30);
    private static readonly VoxelSpacing Spacing = new(2.5, 0.9, 1.3);
    private static readonly string Script = Path.Combine(TestPaths.RepositoryRoot, "MedZoo.Tests", "Engine", "Metrics", "surface_reference.py");

    [SkippableTheory]
    [InlineData(11)]
    [InlineData(12)]
    public void Add_RandomBlobs_MatchesScipy(int seed)
    {
        RequireScipy();
        const int classes = 4;
        var (prediction, truth) = Blobs(seed, classes);
        using var folder = TestPaths.NewTempFolder();
        File.WriteAllBytes(folder.File("pred.u8"), prediction);
        File.WriteAllBytes(folder.File("gt.u8"), truth);
        var json = Run(["metrics", folder.File("pred.u8"), folder.File("gt.u8"), .. ShapeAndSpacing(), classes.ToString(CultureInfo.InvariantCulture)]);

        var scores = new SegmentationMetrics(classes).Add<byte>(prediction, truth, Shape, Spacing);
        using var document = JsonDocument.Parse(json);
        var compared = 0;
        foreach (var entry in document.RootElement.GetProperty("classes").EnumerateArray())
        {
            var c = scores.Classes[entry.GetProperty("class").GetInt32()];
            Assert.Equal(ClassPresence.Both, c.Presence);
            Assert.Equal(entry.GetProperty("dice").GetDouble(), c.Dice, 1e-12);
            Assert.Equal(entry.GetProperty("hd95").GetDouble(), c.Hd95, 1e-9);
            Assert.Equal(entry.GetProperty("assd").GetDouble(), c.Assd, 1e-9);
            Assert.True(c.Hd95 > 0 && c.Assd > 0, "blobs should differ");
            compared++;
        }
        Assert.Equal(classes - 1, compared);
    }

    [SkippableFact]
    public void Distances_SparseFeatures_MatchScipyDistanceTransform()
    {
        RequireScipy();
        var random = new Random(13);
        var features = new bool[Shape.VoxelCount];
        for (var i = 0; i < features.Length; i++) features[i] = random.NextDouble() < 0.002;
        using var folder = TestPaths.NewTempFolder();
        File.WriteAllBytes(folder.File("features.u8"), features.Select(f => f ? (byte)1 : (byte)0).ToArray());
        Run(["edt", folder.File("features.u8"), .. ShapeAndSpacing(), folder.File("distances.f64")]);

        var expected = new double[Shape.VoxelCount];
        Buffer.BlockCopy(File.ReadAllBytes(folder.File("distances.f64")), 0, expected, 0, expected.Length * sizeof(double));
        var actual = EuclideanDistanceTransform.Distances(features, Shape, Spacing);
        var worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst < 1e-9, $"largest difference from scipy: {worst} mm");
    }

    /// <summary>Ellipsoids per class in the truth; the prediction moves and resizes them and adds speckle.</summary>
    private static (byte[] Prediction, byte[] Truth) Blobs(int seed, int classes)
    {
        var random = new Random(seed);
        var truth = new byte[Shape.VoxelCount];
        var prediction = new byte[Shape.VoxelCount];
        for (var c = 1; c < classes; c++)
            for (var blob = 0; blob < 2; blob++)
            {
                // The first blob of class 1 touches the volume border, where the border counts as outside.
                double[] centre = c == 1 && blob == 0
                    ? [0, random.Next(Shape.Height), random.Next(Shape.Width)]
                    : [random.Next(Shape.Depth), random.Next(Shape.Height), random.Next(Shape.Width)];
                double[] radii = [1.5 + random.NextDouble() * 3, 3 + random.NextDouble() * 7, 3 + random.NextDouble() * 7];
                Paint(truth, (byte)c, centre, radii);
                double[] moved = [.. centre.Select(v => v + random.NextDouble() * 3 - 1.5)];
                double[] scaled = [.. radii.Select(r => r * (0.8 + random.NextDouble() * 0.4))];
                Paint(prediction, (byte)c, moved, scaled);
            }
        for (var i = 0; i < prediction.Length; i++)
            if (random.NextDouble() < 0.002) prediction[i] = (byte)random.Next(classes);
        return (prediction, truth);
    }

    private static void Paint(byte[] labels, byte value, double[] centre, double[] radii)
    {
        for (var d = 0; d < Shape.Depth; d++)
            for (var h = 0; h < Shape.Height; h++)
                for (var w = 0; w < Shape.Width; w++)
                {
                    var r = Math.Pow((d - centre[0]) / radii[0], 2) + Math.Pow((h - centre[1]) / radii[1], 2) + Math.Pow((w - centre[2]) / radii[2], 2);
                    if (r <= 1) labels[Shape.IndexOf(d, h, w)] = value;
                }
    }

    private static string[] ShapeAndSpacing() =>
        [.. new double[] { Shape.Depth, Shape.Height, Shape.Width, Spacing.Depth, Spacing.Height, Spacing.Width }
            .Select(v => v.ToString("R", CultureInfo.InvariantCulture))];

    private static void RequireScipy()
    {
        Skip.IfNot(File.Exists(Python), $"{Python} is missing: install Debian's python3 and python3-scipy to compare with scipy");
        var (code, _, error) = Execute(["-c", "import numpy, scipy.ndimage"]);
        Skip.IfNot(code == 0, $"{Python} cannot import numpy/scipy ({error.Trim()}): install Debian's python3-scipy");
    }

    private static string Run(string[] arguments)
    {
        var (code, output, error) = Execute([Script, .. arguments]);
        Assert.True(code == 0, $"surface_reference.py failed ({code}): {error}");
        return output;
    }

    private static (int Code, string Output, string Error) Execute(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Python} {string.Join(' ', arguments)} did not finish in 120 s");
        }
        return (process.ExitCode, output.Result, error.Result);
    }
}
