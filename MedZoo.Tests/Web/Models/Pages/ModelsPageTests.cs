using System.Globalization;
using Bunit;
using MedZoo.Engine.Networks;
using MedZoo.Tests.Web.Components;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using ModelsPage = MedZoo.Web.Models.Pages.Models;

namespace MedZoo.Tests.Web.Models.Pages;

/// <summary>The Models page: one card per zoo network with what users need to choose one, and its parameter count.</summary>
public sealed class ModelsPageTests : ComponentTestContext
{
    private readonly ModelCatalog _catalog = new(NullLogger<ModelCatalog>.Instance);

    public ModelsPageTests() => Context.Services.AddSingleton(_catalog);

    // The page starts counting (building every network) on a background thread; a test that ended
    // while it ran once broke the next tests' seeded random numbers (CheckpointTests, Convolution3dTests).
    protected override Task WhenBackgroundWorkDoneAsync() => _catalog.CountAsync().WaitAsync(TimeSpan.FromMinutes(2));

    [Fact]
    public void Render_EveryModel_ShowsDescriptionPaperAndConstraints()
    {
        var page = Context.Render<ModelsPage>();
        var cards = page.FindAll(".mz-model");
        Assert.Equal(ModelZoo.Names, cards.Select(c => c.GetAttribute("data-model")));
        foreach (var m in ModelZoo.Models)
        {
            var card = page.Find($".mz-model[data-model={m.Name}]");
            Assert.Contains(m.Description, card.TextContent);
            Assert.Equal(m.Paper.Url, card.QuerySelector(".mz-model-paper a")!.GetAttribute("href"));
            Assert.Contains(m.Paper.Year.ToString(CultureInfo.InvariantCulture), card.TextContent);
            Assert.Contains(m.ConstraintsText, card.QuerySelector(".mz-model-constraints")!.TextContent);
        }
        Assert.Contains("base filters (default", page.Find(".mz-model[data-model=UNET3D_CICEK]").TextContent);
    }

    [Fact]
    public async Task Render_AfterCounting_ShowsTheZoosParameterCounts()
    {
        var page = Context.Render<ModelsPage>();
        await Waits.For(_catalog.CountAsync().ContinueWith(_ => true), "the parameter counts", TimeSpan.FromMinutes(1));
        page.WaitForAssertion(() => Assert.All(page.FindAll(".mz-param-count"), c => Assert.Equal("true", c.GetAttribute("data-counted"))),
            TimeSpan.FromSeconds(10));
        foreach (var m in ModelZoo.Models)
        {
            var count = _catalog.Count(m.Name)!;
            Assert.Matches("^[0-9]{1,3}(,[0-9]{3})*$", count);
            Assert.Contains(count, page.Find($".mz-model[data-model={m.Name}] .mz-param-count").TextContent);
        }
        // The counts are the zoo's own (checked against MedicalZoo's PyTorch models in the engine's tests).
        foreach (var name in new[] { "HIGHRESNET", "UNET3D_CICEK" })
            Assert.Equal(ModelZoo.CountParameters(name, ModelCatalog.ReferenceInChannels, ModelCatalog.ReferenceClasses).ToString("N0", CultureInfo.InvariantCulture),
                _catalog.Count(name));
    }
}
