using MedZoo.Engine.Data;

namespace MedZoo.Tests.Engine.Data;

public class DatasetCatalogTests
{
    [Theory]
    [InlineData("synthetic", "synthetic", 4)]
    [InlineData("SYNTHETIC_TUMOUR", "synthetic_tumour", 4)]
    [InlineData("synthetic_tumor", "synthetic_tumour", 4)]
    [InlineData("iseg2017", "iseg2017", 4)]
    [InlineData("iseg_2019", "iseg2019", 4)]
    [InlineData("mrbrains9", "mrbrains2018", 9)]
    [InlineData("mrbrains4", "mrbrains2018_4", 4)]
    [InlineData("brats2020", "brats2020", 4)]
    [InlineData("msd", "decathlon", 0)]
    [InlineData("nnUNetv2", "nnunet", 0)]
    public void Get_NameOrAlias_FindsDefinitionWithItsClasses(string name, string canonical, int classes)
    {
        var d = DatasetCatalog.Get(name);
        Assert.Equal(canonical, d.Name);
        if (classes == 0) return; // user layouts take their classes from dataset.json
        var scan = d.Scan(new DatasetOptions { Name = canonical, Path = Path.GetTempPath(), SyntheticSubjects = 1 });
        Assert.Equal(classes, scan.Mapping.ClassCount);
    }

    [Fact]
    public void Names_AreUniqueAcrossNamesAndAliases()
    {
        var all = DatasetCatalog.All.SelectMany(d => d.Aliases.Prepend(d.Name)).Select(n => n.ToLowerInvariant()).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
    }

    [Fact]
    public void Get_Unknown_ListsEveryName()
    {
        var e = Assert.Throws<ArgumentException>(() => DatasetCatalog.Get("kits19"));
        Assert.All(DatasetCatalog.Names, n => Assert.Contains(n, e.Message));
    }
}
