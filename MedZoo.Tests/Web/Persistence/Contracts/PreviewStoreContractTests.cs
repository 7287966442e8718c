using MedZoo.Engine.Training;
using MedZoo.Web.Runs;

namespace MedZoo.Tests.Web.Persistence.Contracts;

/// <summary>What every <see cref="IPreviewStore"/> must do: one preview per run, plane and slice, by plane then slice.</summary>
public abstract class PreviewStoreContractTests : StoreContractTests
{
    private IPreviewStore Previews => Engine.History;

    private static SlicePreviewRecord Preview(string runId, SlicePlane plane, int slice, int epoch) => new()
    {
        Id = $"{runId}/{plane}/{slice}", RunId = runId, Seq = epoch * 10, Epoch = epoch, SubjectId = "s1", Plane = plane, SliceIndex = slice,
        SliceCount = 64, Width = 2, Height = 2, Image = [1, 2, 3, (byte)epoch], Prediction = [0, 1, 2, 3], GroundTruth = epoch == 1 ? null : [3, 2, 1, 0],
        PixelWidthMm = 0.5, PixelHeightMm = 1.25, Time = At(epoch),
    };

    [Fact]
    public void Previews_SeveralPlanesAndSlices_ByPlaneThenSlice()
    {
        Previews.Upsert(Preview("r", SlicePlane.Coronal, 3, 1));
        Previews.Upsert(Preview("r", SlicePlane.Axial, 20, 1));
        Previews.Upsert(Preview("r", SlicePlane.Axial, 4, 1));
        Previews.Upsert(Preview("other", SlicePlane.Axial, 1, 1));

        Assert.Equal([(SlicePlane.Axial, 4), (SlicePlane.Axial, 20), (SlicePlane.Coronal, 3)],
            Previews.Previews("r").Select(p => (p.Plane, p.SliceIndex)));
    }

    [Fact]
    public void Upsert_SameSliceLater_ReplacesItWithEveryField()
    {
        Previews.Upsert(Preview("r", SlicePlane.Axial, 4, 1));
        var later = Preview("r", SlicePlane.Axial, 4, 2);

        Previews.Upsert(later);

        Assert.Equivalent(later, Assert.Single(Previews.Previews("r")), strict: true);
    }
}

public sealed class PreviewStoreContractTests_LiteDb : PreviewStoreContractTests
{
    protected override Task<StoreEngine> OpenAsync() => Task.FromResult<StoreEngine>(new LiteDbStoreEngine());
}

public sealed class PreviewStoreContractTests_Cluster(PostgresServerFixture server) : PreviewStoreContractTests, IClassFixture<PostgresServerFixture>
{
    protected override async Task<StoreEngine> OpenAsync() => await server.OpenAsync();
}
