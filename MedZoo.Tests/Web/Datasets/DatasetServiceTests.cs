using MedZoo.Tests.Web.Support;
using MedZoo.Web.Accounts;
using MedZoo.Web.Datasets;
using static MedZoo.Tests.Web.Support.AppTestHelpers;

namespace MedZoo.Tests.Web.Datasets;

public sealed class DatasetServiceTests
{
    [Fact]
    public async Task List_Fresh_OffersTheBuiltInSyntheticDatasets()
    {
        await using var f = new StoreFixture();
        var list = new DatasetService(f.Database, TimeProvider.System).List();
        Assert.Contains(list, d => d is { Name: "synthetic", BuiltIn: true, Path: null });
        Assert.All(list, d => Assert.True(d.BuiltIn));
    }

    [Fact]
    public async Task Check_EmptyFolder_ReportsProblemsAndRegisterRefusesIt()
    {
        await using var f = new StoreFixture();
        using var empty = MedZooAppFactory.NewDataFolder();
        var service = new DatasetService(f.Database, TimeProvider.System);
        var report = DatasetService.Check("decathlon", empty.Path, CancellationToken.None);
        Assert.False(report.Ok);
        Assert.Throws<InvalidOperationException>(() => service.Register(Admin, "mine", "decathlon", empty.Path, report));
        Assert.Throws<UnauthorizedAccessException>(() => service.Register(Principal("v", Roles.Viewer), "mine", "decathlon", empty.Path, report));
        Assert.Equal(2, service.List().Count(d => d.BuiltIn));
    }

    [Fact]
    public void Load_SyntheticSubject_HasImageAndLabelOfTheScannedSize()
    {
        var synthetic = new DatasetEntry("synthetic", "synthetic", null, "", true, null);
        var scan = DatasetService.Scan(synthetic);
        Assert.NotEmpty(scan.Subjects);
        var subject = DatasetService.Load(synthetic, scan, scan.Subjects[0].Id);
        Assert.Equal(subject.Size.Voxels, subject.Images[0].Length);
        Assert.NotNull(subject.Label);
        Assert.Contains(subject.Label!, v => v > 0);
    }
}
