using System.Text.RegularExpressions;
using MedZoo.Tests.Cluster;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Accounts;
using MedZoo.Web.Persistence;
using MedZoo.Web.Reviews;
using MedZoo.Web.Runs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static MedZoo.Tests.Web.Support.AppTestHelpers;

namespace MedZoo.Tests.E2E;

/// <summary>
/// Page geometry in a real browser at a laptop width (1440 px) and a phone width (390 px): what
/// fits, what scrolls sideways, what is clipped, measured on the laid-out page. Set
/// MEDZOO_SCREENSHOTS to a folder to keep a PNG of each page the tests look at.
/// </summary>
public partial class LayoutE2ETests : E2ETest
{
    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")]
    private static partial Regex OneDateFormat();

    private static async Task ShotAsync(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable("MEDZOO_SCREENSHOTS") is not { Length: > 0 } folder) return;
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name + ".png"), FullPage = true });
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name + "-top.png") });
    }

    // Asserts that nothing scrolls the page sideways; the message names the innermost elements that stick out.
    private static async Task AssertNoSidewaysScrollAsync(IPage page)
    {
        var extra = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - document.documentElement.clientWidth");
        if (extra <= 0) return;
        var culprits = await page.EvaluateAsync<string[]>("""
            () => {
                const w = document.documentElement.clientWidth;
                const out = [...document.body.querySelectorAll('*')].filter(e => e.getBoundingClientRect().right > w + 0.5);
                return out.filter(e => !out.some(o => o !== e && e.contains(o))).slice(0, 8)
                    .map(e => `<${e.tagName.toLowerCase()} class="${e.getAttribute('class')}"> in "${(e.closest('.mud-input-control, section, div[id]')?.innerText ?? '').trim().slice(0, 40)}" ends at ${Math.round(e.getBoundingClientRect().right)}`);
            }
            """);
        Assert.Fail($"{page.Url} scrolls {extra} px sideways: {string.Join("; ", culprits)}");
    }

    // Elements matching a selector whose box leaves the viewport on the left or right: "text@left..right".
    private static Task<string[]> OutsideAsync(IPage page, string selector) =>
        page.EvaluateAsync<string[]>("""
            s => [...document.querySelectorAll(s)].map(e => [e, e.getBoundingClientRect()])
                .filter(([e, r]) => r.width > 0 && (r.left < -0.5 || r.right > document.documentElement.clientWidth + 0.5))
                .map(([e, r]) => `${(e.innerText || e.id || e.tagName).trim().slice(0, 30)}@${Math.round(r.left)}..${Math.round(r.right)}`)
            """, selector);

    private static ReviewRecord Review(string runId, string runName, ReviewStatus status, int done, int total) => new()
    {
        Id = "review-" + Guid.NewGuid().ToString("N")[..8], RunId = runId, RunName = runName, CheckpointKind = "last", CheckpointEpoch = 2,
        Source = ReviewSource.Validation, SubjectId = "val-1", SubjectName = "val-1", SubjectKey = "val-1", Status = status,
        CreatedBy = MedZooAppFactory.AdminName, CreatedAt = DateTime.UtcNow, WindowsDone = done, WindowsTotal = total,
    };

    [SkippableFact]
    public async Task Laptop_RunsTableFitsAndEveryPageShowsDatesOneWay()
    {
        BrowserSession.RequireChromium();
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = NewApp(folder.Path, new ScriptedRunExecutor());
        var address = app.Start();
        var run = app.Service().Start(Admin, "", ScriptedRunExecutor.Json(epochs: 2, stepsPerEpoch: 1));
        await app.WaitForStatusAsync(run.Id, RunStatus.Completed);
        var reviews = app.Services.GetRequiredService<IReviewStore>();
        var waiting = Review(run.Id, run.Name, ReviewStatus.Running, 0, 0);
        reviews.Save(waiting);

        await using var browser = await BrowserSession.LaunchAsync();
        var page = await browser.NewPageAsync(address);
        await page.SetViewportSizeAsync(1440, 900);
        await BrowserSession.SignInAsync(page, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword, "/runs");
        await page.WaitForSelectorAsync("a.mz-run-link");
        await ShotAsync(page, "runs-1440");
        await AssertNoSidewaysScrollAsync(page);
        Assert.Equal(0, await page.EvalOnSelectorAsync<int>("#runs-grid .mud-table-container", "e => e.scrollWidth - e.clientWidth"));
        Assert.Empty(await OutsideAsync(page, "#runs-grid th, #runs-grid .mud-table-cell input"));
        var created = await page.Locator("#runs-grid th:has-text('Created')").BoundingBoxAsync();
        Assert.NotNull(created);
        Assert.True(created.X + created.Width <= 1440, $"the Created column ends at {created.X + created.Width} px");
        var runDate = (await page.Locator("#runs-grid tbody tr td").Last.InnerTextAsync()).Trim();
        Assert.Matches(OneDateFormat(), runDate);

        await BrowserSession.GotoAsync(page, "/reviews");
        var row = page.Locator($"tr[data-review='{waiting.Id}']");
        await row.WaitForAsync();
        await ShotAsync(page, "reviews-1440");
        Assert.Matches(OneDateFormat(), (await row.Locator("td.mz-review-created").InnerTextAsync()).Trim());
        Assert.Contains("waiting to start", await row.InnerTextAsync());
        Assert.DoesNotContain("0 / 0", await row.InnerTextAsync());
        await AssertNoSidewaysScrollAsync(page);

        await BrowserSession.GotoAsync(page, $"/reviews/{waiting.Id}");
        await page.WaitForSelectorAsync("#review-progress");
        var progress = await page.InnerTextAsync("#review-progress");
        Assert.Contains("waiting to start", progress);
        Assert.DoesNotContain("0 of 0", progress);
    }

    [SkippableFact]
    public async Task Phone_NewRunAndRunPageFitTheWidthAndPreviewsShowOnePlane()
    {
        BrowserSession.RequireChromium();
        await using var browser = await BrowserSession.LaunchAsync();
        const string user = "radiology-operator", password = "radiology-password-1";
        // The real trainer's form (its options, not the scripted trainer's few) and a user name longer than "admin".
        using (var realFolder = MedZooAppFactory.NewDataFolder())
        await using (var real = NewApp(realFolder.Path, executor: null))
        {
            var realAddress = real.Start();
            real.Services.GetRequiredService<UserService>().Create(user, password, Roles.Operator);
            var form = await browser.NewPageAsync(realAddress);
            await form.SetViewportSizeAsync(390, 844);
            await BrowserSession.SignInAsync(form, user, password, "/runs/new");
            await form.WaitForSelectorAsync("#start-run");
            await ShotAsync(form, "newrun-390");
            await AssertNoSidewaysScrollAsync(form);
            Assert.Empty(await OutsideAsync(form, "#signout, .mud-appbar button"));
            await form.Context.CloseAsync();
        }

        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = NewApp(folder.Path, new ScriptedRunExecutor());
        var address = app.Start();
        var run = app.Service().Start(Admin, "", ScriptedRunExecutor.Json(epochs: 1, stepsPerEpoch: 1));
        await app.WaitForStatusAsync(run.Id, RunStatus.Completed);
        var page = await browser.NewPageAsync(address);
        await page.SetViewportSizeAsync(390, 844);
        await BrowserSession.SignInAsync(page, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword, $"/runs/{run.Id}");
        await BrowserSession.WaitAsync(page, "() => Number(document.querySelector('#slice-axial-prediction')?.dataset.drawn) >= 1");
        await ShotAsync(page, "run-390");
        await AssertNoSidewaysScrollAsync(page);
        Assert.Empty(await OutsideAsync(page, "#signout"));
        // One plane at a time on a phone: three slices in a row, the plane chosen by a switcher.
        var visible = await page.Locator(".mz-preview-plane:visible").CountAsync();
        Assert.Equal(1, visible);
        var previews = await page.EvalOnSelectorAsync<double>("#slice-previews", "e => e.getBoundingClientRect().height");
        Assert.True(previews < 600, $"the slice previews are {previews:0} px tall on a phone");
        await page.ClickAsync("#plane-switch button:has-text('Coronal')");
        await page.WaitForSelectorAsync("[data-plane=coronal]", new() { State = WaitForSelectorState.Visible });
        await page.WaitForSelectorAsync("[data-plane=axial]", new() { State = WaitForSelectorState.Hidden });
        await ShotAsync(page, "run-390-coronal");
        Assert.Empty(await OutsideAsync(page, "#slice-previews canvas"));

        // The other pages fit the phone too (wide tables scroll inside their own box).
        foreach (var path in new[] { "/", "/runs", $"/compare?runs={run.Id}", "/reviews", "/datasets", "/models" })
        {
            await BrowserSession.GotoAsync(page, path);
            await page.WaitForSelectorAsync(".mud-main-content .mud-typography");
            await ShotAsync(page, "phone" + path.Split('?')[0].Replace('/', '-'));
            await AssertNoSidewaysScrollAsync(page);
            Assert.Empty(await OutsideAsync(page, "#signout"));
        }
        await BrowserSession.GotoAsync(page, "/runs");
        await page.WaitForSelectorAsync("a.mz-run-link");
        foreach (var button in new[] { "#compare-selected", "#delete-selected" })
        {
            var box = (await page.Locator(button).BoundingBoxAsync())!;
            var card = (await page.Locator("#runs-grid").BoundingBoxAsync())!;
            Assert.True(box.X >= card.X && box.X + box.Width <= card.X + card.Width, $"{button} spans {box.X:0}..{box.X + box.Width:0} outside the Runs card {card.X:0}..{card.X + card.Width:0}");
            Assert.True(await page.Locator(button).EvaluateAsync<bool>("e => e.scrollWidth <= e.clientWidth"), $"{button}'s label is cut off");
        }

        // On a laptop all three planes show and the switcher does not.
        await BrowserSession.GotoAsync(page, $"/runs/{run.Id}");
        await page.WaitForSelectorAsync("#slice-previews");
        await page.SetViewportSizeAsync(1440, 900);
        await page.WaitForSelectorAsync("[data-plane=axial]", new() { State = WaitForSelectorState.Visible });
        Assert.Equal(3, await page.Locator(".mz-preview-plane:visible").CountAsync());
        Assert.False(await page.IsVisibleAsync("#plane-switch"));
    }
}

/// <summary>The same tests with the dashboard as a cluster web node whose runs a worker trains.</summary>
[Collection(ClusterHosts.Collection)]
public sealed class LayoutE2ETests_Cluster(ClusterHosts cluster) : LayoutE2ETests
{
    protected override IDashboardHosts Hosts => cluster;
}
