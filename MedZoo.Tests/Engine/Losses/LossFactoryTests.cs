using MedZoo.Engine.Losses;

namespace MedZoo.Tests.Engine.Losses;

public class LossFactoryTests
{
    [Theory]
    [InlineData("dice", typeof(DiceLoss))]
    [InlineData("generalized_dice", typeof(GeneralizedDiceLoss))]
    [InlineData("dice_ce", typeof(DiceCELoss))]
    [InlineData("focal", typeof(FocalLoss))]
    [InlineData("dice_focal", typeof(DiceFocalLoss))]
    [InlineData("tversky", typeof(TverskyLoss))]
    [InlineData("weighted_ce", typeof(WeightedCrossEntropyLoss))]
    [InlineData("bce_dice", typeof(BCEDiceLoss))]
    [InlineData("vae", typeof(VaeLoss))]
    [InlineData("medicalzoo_dice", typeof(DiceLoss))]
    public void Create_CanonicalName_BuildsThatLoss(string name, Type type)
    {
        using var loss = LossFactory.Create(name);
        Assert.IsType(type, loss);
    }

    [Theory]
    [InlineData("DiceLoss", "dice")]
    [InlineData("DICE", "dice")]
    [InlineData("GeneralizedDiceLoss", "generalized_dice")]
    [InlineData("gdl", "generalized_dice")]
    [InlineData("Dice-CE", "dice_ce")]
    [InlineData("DiceCELoss", "dice_ce")]
    [InlineData("DiceFocalLoss", "dice_focal")]
    [InlineData("BCEDiceLoss", "bce_dice")]
    [InlineData("WeightedCrossEntropyLoss", "weighted_ce")]
    [InlineData("wce", "weighted_ce")]
    [InlineData("TverskyLoss", "tversky")]
    [InlineData("ResNet3dVAE", "vae")]
    [InlineData("medzoo dice", "medicalzoo_dice")]
    public void CanonicalName_AliasOrOtherSpelling_Resolves(string alias, string canonical)
    {
        Assert.Equal(canonical, LossFactory.CanonicalName(alias));
        Assert.True(LossFactory.IsKnown(alias));
    }

    [Fact]
    public void Create_UnknownName_ListsValidNames()
    {
        var e = Assert.Throws<ArgumentException>(() => LossFactory.Create("lovasz"));
        Assert.Contains("lovasz", e.Message);
        foreach (var name in LossFactory.Names)
            Assert.Contains(name, e.Message);
        Assert.False(LossFactory.IsKnown("lovasz"));
    }

    [Fact]
    public void Available_EveryLoss_HasNameAndDescription()
    {
        Assert.Equal(10, LossFactory.Available.Count);
        Assert.All(LossFactory.Available, info => Assert.False(string.IsNullOrWhiteSpace(info.Description)));
        Assert.Equal(LossFactory.Names, LossFactory.Available.Select(i => i.Name));
    }

    [Fact]
    public void Create_MedicalZooDice_SetsMedicalZoosDefaultsWithoutChangingTheCallersOptions()
    {
        var options = new LossOptions();
        using var loss = LossFactory.Create("medicalzoo_dice", options);
        Assert.True(loss.Options.MedicalZooDice);
        Assert.True(loss.Options.IncludeBackground);
        Assert.False(options.MedicalZooDice || options.IncludeBackground);
    }

    [Fact]
    public void Create_Vae_WrapsTheConfiguredSegmentationLoss()
    {
        using var loss = (VaeLoss)LossFactory.Create("vae", new LossOptions { VaeSegmentationLoss = "DiceCELoss" });
        Assert.IsType<DiceCELoss>(loss.Segmentation);
    }

    [Theory]
    [InlineData("vae", "cannot be")]
    [InlineData("nonsense", "valid names")]
    public void Create_VaeWithBadSegmentationLoss_ThrowsNamingTheOption(string inner, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => LossFactory.Create("vae", new LossOptions { VaeSegmentationLoss = inner }));
        Assert.Contains("VaeSegmentationLoss", e.Message);
        Assert.Contains(message, e.Message);
    }
}
