using MedZoo.Tests.Web.Support;

namespace MedZoo.Tests.E2E;

public sealed class DatasetsE2ETests
{
    [SkippableFact]
    public async Task Preview_SyntheticSubject_DrawsSlicesWithLabelsAndFollowsTheSlider()
    {
        BrowserSession.RequireChromium();
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor());
        var address = app.Start();
        await using var browser = await BrowserSession.LaunchAsync();
        var page = await browser.NewPageAsync(address);
        await BrowserSession.SignInAsync(page, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword, "/datasets");
        await page.ClickAsync("#datasets-table tr:has-text('synthetic') >> text=Preview");
        await BrowserSession.WaitAsync(page, "() => Number(document.querySelector('#preview-canvas')?.dataset.drawn) >= 1");
        var drawn = await page.EvalOnSelectorAsync<int>("#preview-canvas", "e => Number(e.dataset.drawn)");
        // Some pixels are coloured by the label overlay (grey pixels have r == g == b).
        var coloured = await page.EvalOnSelectorAsync<int>("#preview-canvas", @"c => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
            for (let i = 0; i < d.length; i += 4) if (d[i] !== d[i + 1] || d[i + 1] !== d[i + 2]) n++;
            return n; }");
        Assert.True(coloured > 0);
        await page.FocusAsync(":is(input#preview-slider, #preview-slider input)");
        await page.Keyboard.PressAsync("ArrowRight");
        await BrowserSession.WaitAsync(page, $"() => Number(document.querySelector('#preview-canvas')?.dataset.drawn) > {drawn}");
    }
}
