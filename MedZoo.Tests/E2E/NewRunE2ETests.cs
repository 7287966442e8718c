using MedZoo.Tests.Cluster;
using MedZoo.Tests.Web.Support;
using Microsoft.Playwright;

namespace MedZoo.Tests.E2E;

/// <summary>
/// The New run form in a real browser with the real trainer's options: the essentials first and the
/// rest collapsed under "Advanced"; a bad value is refused on its own field in the user's words; the
/// banner's links open, scroll to and focus the field; on a phone-wide screen the form fits.
/// </summary>
public class NewRunE2ETests : E2ETest
{
    private const string Patch = "#opt-Sampling-PatchSize";
    private const string PatchItem = "[data-field='Sampling.PatchSize']";
    private const string Flip = "#opt-Augmentation-FlipProbability";

    [SkippableFact]
    public async Task NewRun_BadValues_ShowOnTheirFieldsAndTheBannerLinksToThem()
    {
        BrowserSession.RequireChromium();
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = NewApp(folder.Path, executor: null);
        var address = app.Start();
        await using var browser = await BrowserSession.LaunchAsync();
        var page = await NewPageAsync(browser, address, 1280, 720);
        await BrowserSession.SignInAsync(page, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword, "/runs/new");
        await page.WaitForSelectorAsync(Patch);

        // The default view: the settings that decide a run, the rest collapsed.
        foreach (var field in new[] { "Model", "Dataset.Name", "Epochs", "Sampling.PatchSize", "Sampling.BatchSize", "LearningRate", "Loss" })
            Assert.True(await page.Locator($"[data-field='{field}']").IsVisibleAsync(), $"{field} is not shown");
        Assert.Equal("false", await page.GetAttributeAsync("#options-advanced", "data-expanded"));
        Assert.False(await page.Locator(Flip).IsVisibleAsync());
        Assert.False(await page.Locator("#opt-LossOptions-FocalGamma").IsVisibleAsync());

        // One value for the patch size: refused on the Patch size field, in words, and named in the banner.
        await page.FillAsync(Patch, "32");
        await page.PressAsync(Patch, "Tab");
        await page.ClickAsync("#start-run");
        var fieldError = page.Locator($"{PatchItem} .mud-input-helper-text.mud-input-error");
        await fieldError.WaitForAsync();
        Assert.Equal("Give 3 sizes in voxels (depth, height, width), e.g. 32 32 32; got 1 value.", (await fieldError.InnerTextAsync()).Trim());
        var banner = (await page.InnerTextAsync("#start-error")).Trim();
        Assert.Contains("Patch size: Give 3 sizes", banner);
        foreach (var internalText in new[] { "(Parameter", "Sampling.PatchSize", "PatchSize", "dhw" })
            Assert.DoesNotContain(internalText, banner);
        Assert.Contains("runs/new", page.Url); // nothing started
        // The server's verdict does not lock the form (it may be fixed from another option); text that is not a number does.
        Assert.True(await page.IsEnabledAsync("#start-run"));
        await page.FillAsync("#opt-Epochs", "twelve");
        await page.PressAsync("#opt-Epochs", "Tab");
        await page.WaitForSelectorAsync("#start-error .mz-error-link[data-field='Epochs']");
        Assert.Contains("Epochs: 'twelve' is not a whole number: enter digits only, e.g. 10.", await page.InnerTextAsync("#start-error"));
        Assert.False(await page.IsEnabledAsync("#start-run"));
        await page.FillAsync("#opt-Epochs", "12");
        await page.PressAsync("#opt-Epochs", "Tab");
        await page.WaitForSelectorAsync("#start-error .mz-error-link[data-field='Epochs']", new() { State = WaitForSelectorState.Detached });
        Assert.True(await page.IsEnabledAsync("#start-run"));

        // From the bottom of a long page, the banner's link brings the field back into view and focuses it.
        await page.ClickAsync("#options-advanced > .mud-expand-panel-header");
        await page.ClickAsync("#group-LossOptions > .mud-expand-panel-header");
        await page.Locator("#opt-LossOptions-FocalGamma").WaitForAsync();
        await page.WaitForSelectorAsync("#group-LossOptions .mud-collapse-entered"); // opened to its full height
        await page.EvaluateAsync("() => window.scrollTo(0, document.documentElement.scrollHeight)");
        Assert.False(await InViewAsync(page, Patch), await page.EvaluateAsync<string>("() => `height ${document.documentElement.scrollHeight} y ${window.scrollY} inner ${window.innerHeight} patch ${JSON.stringify(document.querySelector('#opt-Sampling-PatchSize').getBoundingClientRect())}`"));
        await page.ClickAsync(".mz-error-link[data-field='Sampling.PatchSize']");
        await BrowserSession.WaitAsync(page, "() => document.activeElement?.id === 'opt-Sampling-PatchSize'");
        Assert.True(await InViewAsync(page, Patch));

        // Fixed, the error goes; an error in a collapsed advanced group opens that group at its field.
        await page.FillAsync(Patch, "32 32 32");
        await page.PressAsync(Patch, "Tab");
        await page.WaitForSelectorAsync($"{PatchItem} .mud-input-helper-text.mud-input-error", new() { State = WaitForSelectorState.Detached });
        await page.ClickAsync("#group-Augmentation > .mud-expand-panel-header");
        await page.Locator(Flip).WaitForAsync();
        await page.FillAsync(Flip, "2");
        await page.PressAsync(Flip, "Tab");
        await page.ClickAsync("#group-Augmentation > .mud-expand-panel-header");
        await page.ClickAsync("#options-advanced > .mud-expand-panel-header");
        await BrowserSession.WaitAsync(page, "() => document.querySelector('#options-advanced').dataset.expanded === 'false'");
        await page.EvaluateAsync("() => window.scrollTo(0, 0)");
        await page.ClickAsync("#start-run");
        await page.Locator("[data-field='Augmentation.FlipProbability'] .mud-input-helper-text.mud-input-error").WaitForAsync();
        Assert.Equal("true", await page.GetAttributeAsync("#options-advanced", "data-expanded"));
        Assert.Equal("true", await page.GetAttributeAsync("#group-Augmentation", "data-expanded"));
        Assert.Contains("Flip probability: 2 must be a probability in [0, 1].", await page.InnerTextAsync("#start-error"));
        await page.ClickAsync(".mz-error-link[data-field='Augmentation.FlipProbability']");
        await BrowserSession.WaitAsync(page, "() => document.activeElement?.id === 'opt-Augmentation-FlipProbability'");
        Assert.True(await InViewAsync(page, Flip));
    }

    [SkippableFact]
    public async Task NewRun_PhoneWidth_FormCausesNoHorizontalScroll()
    {
        BrowserSession.RequireChromium();
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = NewApp(folder.Path, executor: null);
        var address = app.Start();
        await using var browser = await BrowserSession.LaunchAsync();
        var page = await NewPageAsync(browser, address, 390, 844);
        await BrowserSession.SignInAsync(page, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword, "/runs/new");
        await page.WaitForSelectorAsync(Patch);
        // The longest content: every advanced group open, and an error banner with a long message.
        await page.ClickAsync("#options-advanced > .mud-expand-panel-header");
        foreach (var group in await page.Locator("[id^='group-'] > .mud-expand-panel-header").AllAsync())
            await group.ClickAsync();
        await page.FillAsync("#opt-Epochs", "a-very-long-word-that-a-browser-cannot-break-at-a-space-12345678901234567890");
        await page.PressAsync("#opt-Epochs", "Tab");
        await page.WaitForSelectorAsync(".mz-error-link[data-field='Epochs']");
        await BrowserSession.WaitAsync(page, "() => [...document.querySelectorAll(\"[id^='group-']\")].every(p => p.dataset.expanded === 'true')");

        // Whatever the layout around it does, nothing of the form reaches past the form's own box.
        var overflow = await page.EvaluateAsync<string[]>("""
            () => ['#new-run-header', '.mz-options-form'].flatMap(sel => {
                const box = document.querySelector(sel);
                const right = box.getBoundingClientRect().right + 1;
                const wide = box.scrollWidth > box.clientWidth + 1 ? [`${sel} scrolls: ${box.scrollWidth} > ${box.clientWidth}`] : [];
                return wide.concat([...box.querySelectorAll('*')]
                    .filter(e => e.getClientRects().length > 0 && e.getBoundingClientRect().right > right && getComputedStyle(e).visibility !== 'hidden')
                    .slice(0, 5)
                    .map(e => `${sel}: ${e.tagName}.${e.className} id=${e.id} right ${Math.round(e.getBoundingClientRect().right)} > ${Math.round(right)}`));
            })
            """);
        Assert.Empty(overflow);
    }

    private static async Task<IPage> NewPageAsync(BrowserSession browser, Uri address, int width, int height)
    {
        var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = address.ToString().TrimEnd('/'), ViewportSize = new ViewportSize { Width = width, Height = height },
        });
        context.SetDefaultTimeout(BrowserSession.TimeoutMs);
        return await context.NewPageAsync();
    }

    private static Task<bool> InViewAsync(IPage page, string selector) =>
        page.EvalOnSelectorAsync<bool>(selector, """
            e => {
                const t = e.offsetParent === null ? (e.closest('.mud-input-control') ?? e) : e;
                const r = t.getBoundingClientRect();
                return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight;
            }
            """);
}

/// <summary>The same tests with the dashboard as a cluster web node whose runs a worker trains.</summary>
[Collection(ClusterHosts.Collection)]
public sealed class NewRunE2ETests_Cluster(ClusterHosts cluster) : NewRunE2ETests
{
    protected override IDashboardHosts Hosts => cluster;
}
