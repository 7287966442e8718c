using MedZoo.Web.Reviews;

namespace MedZoo.Tests.Web.Reviews;

public sealed class MetricsCsvTests
{
    [Fact]
    public void Write_OneRowPerClass_InvariantNumbersEmptyForUndefined()
    {
        var csv = MetricsCsv.Write(
        [
            new ReviewClassMetrics { Class = 0, Name = "background", Presence = "Both", Dice = 0.99, Iou = 0.98, PredictedVoxels = 10, GroundTruthVoxels = 11, PredictedVolumeMm3 = 10, GroundTruthVolumeMm3 = 11 },
            new ReviewClassMetrics { Class = 1, Name = "grey, matter \"GM\"", Presence = "GroundTruthOnly", Dice = 0, Iou = 0, Hd95 = double.NaN, GroundTruthVoxels = 5, GroundTruthVolumeMm3 = 2.5, FalseNegativeVoxels = 5 },
        ]);
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Equal(string.Join(',', MetricsCsv.Columns), lines[0]);
        Assert.Equal("0,background,Both,0.99,0.98,,10,11,10,11,0,0", lines[1]);
        Assert.Equal("1,\"grey, matter \"\"GM\"\"\",GroundTruthOnly,0,0,,0,5,0,2.5,0,5", lines[2]);
    }

    [Fact]
    public void Number_RoundTripsAndLeavesNonFiniteEmpty()
    {
        Assert.Equal(0.1 + 0.2, double.Parse(MetricsCsv.Number(0.1 + 0.2), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("", MetricsCsv.Number(double.PositiveInfinity));
        Assert.Equal("", MetricsCsv.Number(double.NaN));
    }
}
