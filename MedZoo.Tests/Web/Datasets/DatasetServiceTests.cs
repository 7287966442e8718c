using MedZoo.Engine;
using MedZoo.Engine.Training;
using MedZoo.Tests.Engine.Data;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Accounts;
using MedZoo.Web.Datasets;
using Microsoft.Extensions.Options;
using static MedZoo.Tests.Web.Support.AppTestHelpers;

namespace MedZoo.Tests.Web.Datasets;

public sealed class DatasetServiceTests
{
    private static DatasetService Service(StoreFixture f, DataAccessOptions? access = null) =>
        new(f.Datasets, f.DataOptions, TimeProvider.System, Options.Create(access ?? new DataAccessOptions()));

    [Fact]
    public async Task List_Fresh_OffersTheBuiltInSyntheticDatasets()
    {
        await using var f = new StoreFixture();
        var list = Service(f).List();
        Assert.Contains(list, d => d is { Name: "synthetic", BuiltIn: true, Path: null });
        Assert.All(list, d => Assert.True(d.BuiltIn));
    }

    [Fact]
    public async Task Check_EmptyFolder_ReportsProblemsAndRegisterRefusesIt()
    {
        await using var f = new StoreFixture();
        var empty = Directory.CreateDirectory(Path.Combine(f.Folder.Path, "empty")).FullName;
        var service = Service(f);
        var check = service.Check(Admin, "decathlon", empty, CancellationToken.None);
        Assert.False(check.Report.Ok);
        Assert.Throws<InvalidOperationException>(() => service.Register(Admin, "mine", check));
        Assert.Throws<UnauthorizedAccessException>(() => service.Register(Principal("v", Roles.Viewer), "mine", check));
        Assert.Throws<UnauthorizedAccessException>(() => service.Check(Principal("v", Roles.Viewer), "decathlon", empty, CancellationToken.None));
        Assert.Equal(2, service.List().Count(d => d.BuiltIn));
    }

    [Fact]
    public async Task Check_FolderOutsideTheDataRoots_IsRefusedBeforeAnythingIsRead()
    {
        await using var f = new StoreFixture();
        using var outside = MedZooAppFactory.NewDataFolder();
        DatasetMemoryTests.WriteDecathlon(outside.Path);
        var e = Assert.Throws<InvalidOptionException>(() => Service(f).Check(Admin, "decathlon", outside.Path, CancellationToken.None));
        Assert.Contains("data roots", e.Message);
        Assert.DoesNotContain(outside.Path, e.Message);
        // Allowed once an admin adds a root over it.
        var service = Service(f);
        service.Roots.Add(Admin, "outside", outside.Path);
        Assert.True(service.Check(Admin, "decathlon", outside.Path, CancellationToken.None).Report.Ok);
    }

    [Fact]
    public async Task Register_AfterACheck_AddsTheResolvedFolderThatWasChecked()
    {
        await using var f = new StoreFixture();
        var real = Directory.CreateDirectory(Path.Combine(f.Folder.Path, "datasets", "task")).FullName;
        DatasetMemoryTests.WriteDecathlon(real);
        Directory.CreateSymbolicLink(Path.Combine(f.Folder.Path, "task-link"), real);
        var service = Service(f);
        var check = service.Check(Admin, "decathlon", Path.Combine(f.Folder.Path, "task-link"), CancellationToken.None);
        Assert.True(check.Report.Ok, string.Join("; ", check.Report.Errors));
        var doc = service.Register(Admin, "task", check);
        Assert.Equal(real, doc.Path);
        Assert.Equal("decathlon", doc.Kind);
    }

    [Fact]
    public async Task CheckRun_WriteFoldersOutsideTheDataFolder_AreRefusedNamingTheField()
    {
        await using var f = new StoreFixture();
        using var outside = MedZooAppFactory.NewDataFolder();
        var o = new TrainerOptions { LogDirectory = outside.Path };
        var e = Assert.Throws<InvalidOptionException>(() => Service(f).CheckRun(o));
        Assert.StartsWith("LogDirectory: ", e.Message);
        Assert.Equal("LogDirectory", e.Error.Path);
        Assert.Equal("LogDirectory", e.ParamName);
        o = new TrainerOptions();
        o.Dataset.CacheDirectory = "../escape";
        e = Assert.Throws<InvalidOptionException>(() => Service(f).CheckRun(o));
        Assert.StartsWith("Dataset.CacheDirectory: ", e.Message);
        Assert.Equal("Dataset.CacheDirectory", e.Error.Path);

        // Inside: relative folders are taken from the data folder, and the run gets the resolved path.
        o = new TrainerOptions { LogDirectory = "tensorboard" };
        Service(f).CheckRun(o);
        Assert.Equal(Path.Combine(f.Folder.Path, "tensorboard"), o.LogDirectory);
    }

    [Fact]
    public async Task CheckRun_PlanFileOutsideTheRootsOrLinkedOut_IsRefusedOnPlanSource()
    {
        await using var f = new StoreFixture();
        using var outside = MedZooAppFactory.NewDataFolder();
        var plan = Path.Combine(outside.Path, "medzoo.plan.json");
        File.WriteAllText(plan, "{}");
        var e = Assert.Throws<InvalidOptionException>(() => Service(f).CheckRun(new TrainerOptions { PlanSource = plan }));
        Assert.Equal("PlanSource", e.Error.Path);
        // A link inside the data folder to the file outside is followed, and refused too.
        var link = Path.Combine(f.Folder.Path, "linked.plan.json");
        File.CreateSymbolicLink(link, plan);
        Assert.Equal("PlanSource", Assert.Throws<InvalidOptionException>(() => Service(f).CheckRun(new TrainerOptions { PlanSource = link })).Error.Path);
        Assert.Equal("PlanSource", Assert.Throws<InvalidOptionException>(() => Service(f).CheckRun(new TrainerOptions { PlanSource = "relative.json" })).Error.Path);

        // Inside a root, and "auto", are taken as they are.
        var inside = Path.Combine(f.Folder.Path, "medzoo.plan.json");
        File.WriteAllText(inside, "{}");
        var o = new TrainerOptions { PlanSource = inside };
        Service(f).CheckRun(o);
        Assert.Equal(DataRoots.RealPath(inside), o.PlanSource);
        o = new TrainerOptions { PlanSource = "auto" };
        Service(f).CheckRun(o);
        Assert.Equal("auto", o.PlanSource);
    }

    [Fact]
    public async Task CheckRun_DatasetFolderOutsideTheRoots_IsRefusedOnDatasetPath()
    {
        await using var f = new StoreFixture();
        var o = new TrainerOptions();
        o.Dataset.Name = "decathlon";
        o.Dataset.Path = "/etc";
        var e = Assert.Throws<InvalidOptionException>(() => Service(f).CheckRun(o));
        Assert.StartsWith("Dataset.Path: ", e.Message);
        Assert.Equal("Dataset.Path", e.Error.Path);
        Assert.DoesNotContain("/etc", e.Message);
        // Relative dataset folders are refused: the stored configuration is read again later (reviews).
        o.Dataset.Path = "datasets/task";
        e = Assert.Throws<InvalidOptionException>(() => Service(f).CheckRun(o));
        Assert.Contains("absolute path", e.Message);
    }

    [Fact]
    public async Task CheckRun_DatasetOverTheMemoryBudget_IsRefusedBeforeLoadingWithTheSetting()
    {
        await using var f = new StoreFixture();
        var huge = new TrainerOptions();
        huge.Dataset.SyntheticSubjects = 10000;
        huge.Dataset.SyntheticSize = [512, 512, 512];
        // The default budget (half the machine's memory) is far below 12 TB.
        var e = Assert.Throws<InvalidOptionException>(() => Service(f).CheckRun(huge));
        Assert.StartsWith("Dataset.SyntheticSubjects: ", e.Message);
        Assert.Equal("Dataset.SyntheticSubjects", e.Error.Path);
        Assert.Contains("MedZoo:Data:MemoryBudgetBytes", e.Message);
        Assert.Contains("10000 subject(s)", e.Message);

        // A small configured budget refuses even the demo (10 phantoms of 64³: 23.6 MB held).
        var demo = new TrainerOptions();
        var small = new DataAccessOptions { MemoryBudgetBytes = 10L << 20 };
        Assert.Throws<InvalidOptionException>(() => Service(f, small).CheckRun(demo));
        Service(f, new DataAccessOptions { MemoryBudgetBytes = 1L << 30 }).CheckRun(demo);
    }
}
