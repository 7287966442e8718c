using MedZoo.Web.Datasets;

namespace MedZoo.Tests.Web.Persistence.Contracts;

/// <summary>What every <see cref="IDatasetStore"/> must do.</summary>
public abstract class DatasetStoreContractTests : StoreContractTests
{
    [Fact]
    public void Datasets_InsertListDelete_ByNameAndNamesUnique()
    {
        var brats = new DatasetRecord { Id = "brats", Kind = "brats2020", Path = "/data/brats", AddedBy = "ana", AddedAt = At(2), Report = "ok\n3 subjects", Valid = true };
        Assert.True(Engine.Datasets.Insert(new DatasetRecord { Id = "iseg", Kind = "iseg2017", Path = "/data/iseg", AddedAt = At(1) }));
        Assert.True(Engine.Datasets.Insert(brats));

        Assert.False(Engine.Datasets.Insert(new DatasetRecord { Id = "brats", Path = "/elsewhere" }));
        Assert.Equal(["brats", "iseg"], Engine.Datasets.List().Select(d => d.Id));
        Assert.Equivalent(brats, Engine.Datasets.List()[0], strict: true);

        Assert.True(Engine.Datasets.Delete("brats"));
        Assert.False(Engine.Datasets.Delete("brats"));
        Assert.Equal(["iseg"], Engine.Datasets.List().Select(d => d.Id));
    }

    [Fact]
    public void Plans_SaveReplaceFind_AndGoWithTheirDataset()
    {
        Assert.True(Engine.Datasets.Insert(new DatasetRecord { Id = "brats", Kind = "brats2020", Path = "/data/brats", AddedAt = At(1) }));
        Assert.Null(Engine.Datasets.FindPlan("brats"));
        var plan = new DatasetPlanRecord { Id = "brats", PlanJson = "{\"patch\":[64,64,64]}", FingerprintJson = "{}", SavedTo = "/data/brats/medzoo.plan.json", PlannedBy = "ana", PlannedAt = At(2) };
        Engine.Datasets.SavePlan(plan);
        Assert.Equivalent(plan, Engine.Datasets.FindPlan("brats"), strict: true);

        var replanned = new DatasetPlanRecord { Id = "brats", PlanJson = "{\"patch\":[32,32,32]}", FingerprintJson = "{}", PlannedBy = "ana", PlannedAt = At(3) };
        Engine.Datasets.SavePlan(replanned);
        Assert.Equal(replanned.PlanJson, Engine.Datasets.FindPlan("brats")!.PlanJson);
        Assert.Null(Engine.Datasets.FindPlan("brats")!.SavedTo);

        Assert.True(Engine.Datasets.Delete("brats"));
        Assert.Null(Engine.Datasets.FindPlan("brats"));
    }

    [Fact]
    public void Roots_InsertListDelete_ByNameAndNamesUnique()
    {
        var lab = new DataRootRecord { Name = "lab", Path = "/mnt/lab", AddedBy = "ana", AddedAt = At(3) };
        Assert.True(Engine.Datasets.InsertRoot(new DataRootRecord { Name = "scratch", Path = "/scratch", AddedAt = At(1) }));
        Assert.True(Engine.Datasets.InsertRoot(lab));

        Assert.False(Engine.Datasets.InsertRoot(new DataRootRecord { Name = "lab", Path = "/other" }));
        Assert.Equal(["lab", "scratch"], Engine.Datasets.Roots().Select(r => r.Name));
        Assert.Equivalent(lab, Engine.Datasets.Roots()[0], strict: true);

        Assert.True(Engine.Datasets.DeleteRoot("lab"));
        Assert.False(Engine.Datasets.DeleteRoot("lab"));
        Assert.Equal(["scratch"], Engine.Datasets.Roots().Select(r => r.Name));
        Assert.Empty(Engine.Datasets.List());
    }
}

public sealed class DatasetStoreContractTests_LiteDb : DatasetStoreContractTests
{
    protected override Task<StoreEngine> OpenAsync() => Task.FromResult<StoreEngine>(new LiteDbStoreEngine());
}

public sealed class DatasetStoreContractTests_Cluster(PostgresServerFixture server) : DatasetStoreContractTests, IClassFixture<PostgresServerFixture>
{
    protected override async Task<StoreEngine> OpenAsync() => await server.OpenAsync();
}
