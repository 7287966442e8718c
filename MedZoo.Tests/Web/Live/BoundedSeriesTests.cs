using MedZoo.Web.Live;

namespace MedZoo.Tests.Web.Live;

public sealed class BoundedSeriesTests
{
    private static BoundedSeries<(long Step, double Loss)> Series(int max = 200, int exact = 50) =>
        new(p => p.Step, p => p.Loss, max, exact);

    [Fact]
    public void Add_20000Points_HoldsAtMostMaxWithTheNewestExact()
    {
        var s = Series();
        var most = 0;
        for (var i = 1; i <= 20_000; i++)
        {
            s.Add((i, 1.0 / i));
            most = Math.Max(most, s.Points.Count);
        }
        Assert.Equal(200, most);
        Assert.Equal(Enumerable.Range(19_951, 50).Select(i => (long)i), s.Points.TakeLast(50).Select(p => p.Step));
        Assert.Equal(s.Points.Select(p => p.Step).Distinct().Order(), s.Points.Select(p => p.Step));
        Assert.Equal(1, s.Points[0].Step); // the first point is its range's highest loss
    }

    [Fact]
    public void Add_SpikesAnywhere_SurviveEveryReduction()
    {
        var s = Series();
        for (var i = 1; i <= 20_000; i++) s.Add((i, i is 777 or 15_000 ? 100 : i == 9_000 ? -100 : 1));
        Assert.Contains(s.Points, p => p is (777, 100));
        Assert.Contains(s.Points, p => p is (15_000, 100));
        Assert.Contains(s.Points, p => p is (9_000, -100));
    }

    [Fact]
    public void Add_LongRun_EarlyStepsKeepAsManyPointsAsLateOnes()
    {
        // Reducing in equal counts would squeeze already-reduced early points again and again; equal step ranges do not.
        var s = Series();
        for (var i = 1; i <= 20_000; i++) s.Add((i, Math.Sin(i)));
        var older = s.Points.Take(s.Points.Count - 50).ToList();
        var perQuarter = Enumerable.Range(0, 4).Select(q => older.Count(p => p.Step > q * 5_000 && p.Step <= (q + 1) * 5_000 && p.Step < 19_000)).ToList();
        Assert.All(perQuarter.Take(3), n => Assert.InRange(n, perQuarter[0] / 2, perQuarter[0] * 2));
        Assert.True(perQuarter[0] >= 10, $"steps 1..5000 keep {perQuarter[0]} points");
    }

    [Fact]
    public void Revision_AppendsOnly_StaysTheSame()
    {
        var s = Series();
        var revision = s.Revision;
        for (var i = 1; i <= 200; i++) s.Add((i, 1));
        Assert.Equal(200, s.Points.Count);
        Assert.Equal(revision, s.Revision);
    }

    [Fact]
    public void Revision_ReductionOrRewind_Changes()
    {
        var s = Series();
        for (var i = 1; i <= 200; i++) s.Add((i, 1));
        var full = s.Revision;
        s.Add((201, 1)); // over MaxPoints: older points reduced
        Assert.NotEqual(full, s.Revision);
        var reduced = s.Revision;
        s.Add((202, 1));
        Assert.Equal(reduced, s.Revision);
        s.Add((150, 2)); // resumed from an earlier checkpoint
        Assert.NotEqual(reduced, s.Revision);
    }

    [Fact]
    public void Add_StepAtOrBeforeTheLast_SupersedesThePointsFromThere()
    {
        var s = Series();
        for (var i = 1; i <= 60; i++) s.Add((i, 1));
        for (var i = 51; i <= 55; i++) s.Add((i, 2)); // resumed from the checkpoint at step 50
        Assert.Equal(Enumerable.Range(1, 55).Select(i => (long)i), s.Points.Select(p => p.Step));
        Assert.All(s.Points.Skip(50), p => Assert.Equal(2, p.Loss));
    }

    [Fact]
    public void Add_NaNLoss_StaysAGapAfterReduction()
    {
        var s = Series();
        for (var i = 1; i <= 5_000; i++) s.Add((i, i is > 1_000 and <= 2_000 ? double.NaN : 1));
        Assert.Contains(s.Points, p => p.Step is > 1_000 and <= 2_000 && double.IsNaN(p.Loss));
    }

    [Theory]
    [InlineData(57, 50)]
    [InlineData(10, -1)]
    public void Constructor_TooSmall_Throws(int max, int exact) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Series(max, exact));
}
