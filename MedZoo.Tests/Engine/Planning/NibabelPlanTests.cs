using System.Text.Json;
using MedZoo.Engine.Data;
using MedZoo.Engine.IO;
using MedZoo.Engine.Planning;
using MedZoo.Tests.TestSupport;

namespace MedZoo.Tests.Engine.Planning;

/// <summary>
/// Proof (c) of issue 15: nnU-Net datasets written by nibabel with mixed spacings and axis orders
/// get the plan planning_reference.py computes by hand with numpy and nibabel, and the canonical
/// grids nibabel's as_closest_canonical gives.
/// </summary>
public class NibabelPlanTests
{
    private static (TempFolder Folder, JsonElement Expected) Write(string kind)
    {
        PlanningReference.Require();
        var folder = TestPaths.NewTempFolder();
        var expected = JsonDocument.Parse(PlanningReference.Run(["dataset", folder.Path, kind])).RootElement.Clone();
        return (folder, expected);
    }

    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    private static void Close(double expected, double actual, string what, double tolerance = 1e-6) =>
        Assert.True(Math.Abs(expected - actual) <= tolerance * Math.Max(1, Math.Abs(expected)), $"{what}: {actual} vs hand-computed {expected}");

    [SkippableTheory]
    [InlineData("mixed")]
    [InlineData("anisotropic")]
    public void Plan_NibabelDataset_EqualsTheHandComputedPlan(string kind)
    {
        var (folder, expected) = Write(kind);
        using var _ = folder;
        var options = new DatasetOptions { Name = "nnunet", Path = folder.Path };
        var fingerprint = FingerprintBuilder.Build(options);
        var subjects = expected.GetProperty("subjects").EnumerateArray().ToList();
        Assert.Equal(subjects.Count, fingerprint.Subjects.Count);
        Assert.Equal("labels", fingerprint.ForegroundSource);
        for (var i = 0; i < subjects.Count; i++)
        {
            var e = subjects[i];
            var s = fingerprint.Subjects[i];
            Assert.Equal(e.GetProperty("id").GetString(), s.Id);
            Assert.Equal(e.GetProperty("codes").GetString(), s.Orientation);
            Assert.Equal(e.GetProperty("canonicalShape").EnumerateArray().Select(v => v.GetInt32()), s.CanonicalSize);
            var spacing = Doubles(e.GetProperty("canonicalSpacing"));
            for (var a = 0; a < 3; a++) Close(spacing[a], s.CanonicalSpacing[a], $"{s.Id} canonical spacing {a}", 1e-12);
            foreach (var stats in s.Intensities)
            {
                var h = e.GetProperty("stats").GetProperty(stats.Modality);
                Close(h.GetProperty("mean").GetDouble(), stats.Mean, $"{s.Id} {stats.Modality} mean");
                Close(h.GetProperty("sd").GetDouble(), stats.Sd, $"{s.Id} {stats.Modality} sd");
                Close(h.GetProperty("p005").GetDouble(), stats.Percentile005, $"{s.Id} {stats.Modality} p0.5");
                Close(h.GetProperty("p995").GetDouble(), stats.Percentile995, $"{s.Id} {stats.Modality} p99.5");
            }
            var volumes = Doubles(e.GetProperty("classVolumes"));
            for (var c = 0; c < 3; c++) Close(volumes[c], s.ClassVolumes[c], $"{s.Id} class {c} volume");
        }

        var plan = Planner.Plan(fingerprint, new PlanOptions { Model = "UNET3D_CICEK" }, new FakeProbe(budget: 1e6));
        var target = Doubles(expected.GetProperty("targetSpacing"));
        for (var a = 0; a < 3; a++) Close(target[a], plan.TargetSpacing.Value[a], $"target spacing {a}", 1e-12);
        Assert.Equal(expected.GetProperty("medianShapeDHW").EnumerateArray().Select(v => v.GetInt32()), plan.MedianShape);
        Assert.Equal(DatasetPlan.Canonical, plan.Orientation.Value);
        Assert.Equal(["ct", "mr"], plan.Intensity.Select(m => m.Scheme.Value));
        var ct = expected.GetProperty("pooled").GetProperty("CT");
        Close(ct.GetProperty("p005").GetDouble(), plan.Intensity[0].ClipLow, "CT clip low");
        Close(ct.GetProperty("p995").GetDouble(), plan.Intensity[0].ClipHigh, "CT clip high");
        Close(ct.GetProperty("mean").GetDouble(), plan.Intensity[0].Mean, "CT mean");
        Close(ct.GetProperty("sd").GetDouble(), plan.Intensity[0].Sd, "CT sd");
        if (kind == "anisotropic") Assert.Contains("10th percentile", plan.TargetSpacing.Reason);
        else Assert.Contains($"median of {subjects.Count} subjects", plan.TargetSpacing.Reason);
    }

    [SkippableFact]
    public void Load_WithThePlan_SubjectsLieOnNibabelsCanonicalGridsAtTheTargetSpacing()
    {
        var (folder, expected) = Write("mixed");
        using var _ = folder;
        var options = new DatasetOptions { Name = "nnunet", Path = folder.Path, Split = 1 };
        var plan = Planner.Plan(FingerprintBuilder.Build(options), new PlanOptions(), new FakeProbe(budget: 1e6));
        var subjects = expected.GetProperty("subjects").EnumerateArray().ToList();
        foreach (var e in subjects)
        {
            var id = e.GetProperty("id").GetString()!;
            var label = VolumeIO.Read(Path.Combine(folder.Path, "labelsTr", id + ".nii.gz"));
            var (x, y, z) = label.Size;
            var canonical = Reorientation.ToCanonical(label.Geometry, new SpatialSize(z, y, x)).Target.Affine;
            var nib = Doubles(e.GetProperty("canonical"));
            for (var k = 0; k < 16; k++) Close(nib[k], canonical[k], $"{id} canonical affine[{k}]", 1e-9);
        }
        var dataset = SegmentationDataset.Load(options, preprocessing: new PlannedPreprocessing(plan));
        foreach (var s in dataset.Subjects)
        {
            Assert.Equal("RAS", GridOrientation.Codes(s.Geometry));
            for (var a = 0; a < 3; a++) Assert.InRange(s.Geometry.Spacing[a] / plan.TargetSpacing.Value[a], 0.8, 1.25);
            Assert.Subset(new HashSet<byte> { 0, 1, 2 }, s.Label!.Distinct().ToHashSet());
        }
    }

    [SkippableFact]
    public void Load_WithCache_ReusesSubjectsOfThePlanAndNotOfAnotherPlan()
    {
        var (folder, _) = Write("mixed");
        using var _f = folder;
        using var cache = TestPaths.NewTempFolder();
        var options = new DatasetOptions { Name = "nnunet", Path = folder.Path, Split = 1, CacheDirectory = cache.Path };
        var plan = Planner.Plan(FingerprintBuilder.Build(options), new PlanOptions(), new FakeProbe(budget: 1e6));
        var first = SegmentationDataset.Load(options, preprocessing: new PlannedPreprocessing(plan));
        Assert.Equal(0, first.CacheHits);
        var second = SegmentationDataset.Load(options, preprocessing: new PlannedPreprocessing(plan));
        Assert.Equal(first.Subjects.Count, second.CacheHits);
        for (var i = 0; i < first.Subjects.Count; i++)
        {
            Assert.Equal(first.Subjects[i].Label, second.Subjects[i].Label);
            Assert.Equal(first.Subjects[i].Geometry, second.Subjects[i].Geometry);
        }
        var coarser = plan.Clone();
        coarser.TargetSpacing.Value = [2, 2, 2];
        var third = SegmentationDataset.Load(options, preprocessing: new PlannedPreprocessing(coarser));
        Assert.Equal(0, third.CacheHits);
        Assert.Equal(0, SegmentationDataset.Load(options).CacheHits); // no plan: the options' own preprocessing
    }
}
