using MedZoo.Web.Components.Shared;

namespace MedZoo.Tests.Web.Components.Shared;

public sealed class ChartSyncTests
{
    private static ChartLine Line(string name, params double[] ys) =>
        new(name, "red", ys.Select((_, i) => (double)i), ys);

    [Fact]
    public void Next_FirstCall_SendsEveryLineWholeWithItsStyle()
    {
        var sync = new ChartSync();
        var spec = sync.Next([Line("a", 1, 2), new ChartLine("b", "blue", [0], [3], dashed: true, markers: true)], "epoch", 0, 1)!;
        Assert.Null(spec.Base);
        Assert.Equal(("epoch", 0.0, 1.0), (spec.XLabel, spec.YMin!.Value, spec.YMax!.Value));
        Assert.Equal([1.0, 2], spec.Series[0].Y);
        Assert.Equal(("b", "blue", true, true), (spec.Series[1].Name, spec.Series[1].Color, spec.Series[1].Dashed!.Value, spec.Series[1].Markers!.Value));
    }

    [Fact]
    public void Next_PointsAppended_SendsOnlyThePointsAddedSinceTheLastSpec()
    {
        var sync = new ChartSync();
        var a = Line("a", 1, 2);
        var b = Line("b", 5);
        var first = sync.Next([a, b], null, null, null)!;
        a.Add(2, 3);
        a.Add(3, 4);
        var second = sync.Next([a, b], null, null, null)!;
        Assert.Equal(first.Seq, second.Base);
        Assert.Equal([2.0, 3], second.Series[0].X);
        Assert.Equal([3.0, 4], second.Series[0].Y);
        Assert.False(second.Series[0].Replace);
        Assert.Empty(second.Series[1].X);
        Assert.Null(second.Series[0].Name);
        Assert.Null(second.XLabel);

        b.Add(1, 6);
        var third = sync.Next([a, b], null, null, null)!;
        Assert.Equal(second.Seq, third.Base);
        Assert.Empty(third.Series[0].X);
        Assert.Equal([6.0], third.Series[1].Y);
    }

    [Fact]
    public void Next_NothingAdded_ReturnsNull()
    {
        var sync = new ChartSync();
        var a = Line("a", 1);
        sync.Next([a], null, null, null);
        Assert.Null(sync.Next([a], null, null, null));
    }

    [Fact]
    public void Next_NaN_GoesAsNullSoTheBrowserDrawsAGap()
    {
        var sync = new ChartSync();
        var a = Line("a", 1, double.NaN);
        Assert.Equal([1.0, null], sync.Next([a], null, null, null)!.Series[0].Y);
        a.Add(2, double.PositiveInfinity);
        a.Add(3, 2);
        Assert.Equal([null, 2.0], sync.Next([a], null, null, null)!.Series[0].Y);
    }

    [Fact]
    public void Next_LineReplaced_SendsThatLineWholeAndTheOthersTheirNewPoints()
    {
        var sync = new ChartSync();
        var a = Line("a", 1, 2, 3);
        var b = Line("b", 5);
        sync.Next([a, b], null, null, null);
        a.Replace([0, 1], [7, 8]); // e.g. old steps reduced, or the run rewound
        b.Add(1, 6);
        var spec = sync.Next([a, b], null, null, null)!;
        Assert.NotNull(spec.Base);
        Assert.True(spec.Series[0].Replace);
        Assert.Equal([7.0, 8], spec.Series[0].Y);
        Assert.False(spec.Series[1].Replace);
        Assert.Equal([6.0], spec.Series[1].Y);
    }

    [Theory]
    [InlineData("added")]
    [InlineData("removed")]
    [InlineData("other object")]
    [InlineData("axes")]
    public void Next_LinesOrAxesChanged_SendsEverythingWhole(string change)
    {
        var sync = new ChartSync();
        var a = Line("a", 1, 2);
        var b = Line("b", 3);
        sync.Next([a, b], "epoch", null, null);
        var spec = change switch
        {
            "added" => sync.Next([a, b, Line("c", 4)], "epoch", null, null),
            "removed" => sync.Next([a], "epoch", null, null),
            "other object" => sync.Next([a, Line("b", 3)], "epoch", null, null),
            _ => sync.Next([a, b], "epoch", 0, 1),
        };
        Assert.NotNull(spec);
        Assert.Null(spec.Base);
        Assert.Equal([1.0, 2], spec.Series[0].Y);
        Assert.Equal("a", spec.Series[0].Name);
    }

    [Fact]
    public void Forget_ThenNext_SendsEverythingWhole()
    {
        var sync = new ChartSync();
        var a = Line("a", 1);
        sync.Next([a], null, null, null);
        sync.Forget();
        var spec = sync.Next([a], null, null, null)!;
        Assert.Null(spec.Base);
        Assert.Equal([1.0], spec.Series[0].Y);
    }

    [Fact]
    public void Full_AfterDeltas_NumbersGoOnSoAStaleDeltaCannotApply()
    {
        var sync = new ChartSync();
        var a = Line("a", 1);
        var first = sync.Next([a], null, null, null)!;
        a.Add(1, 2);
        var delta = sync.Next([a], null, null, null)!;
        var whole = sync.Full([a], null, null, null);
        Assert.True(whole.Seq > delta.Seq && delta.Seq > first.Seq);
        Assert.Equal([1.0, 2], whole.Series[0].Y);
    }
}
