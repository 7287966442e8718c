using System.Globalization;
using MedZoo.Engine.Data;
using MedZoo.Engine.Data.Datasets;
using MedZoo.Engine.IO;
using MedZoo.Engine.Metrics;
using MedZoo.Engine.Training;
using MedZoo.Tests.Cluster;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Accounts;
using MedZoo.Web.Imaging;
using MedZoo.Web.Persistence;
using MedZoo.Web.Reviews;
using MedZoo.Web.Runs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace MedZoo.Tests.E2E;

/// <summary>
/// The review feature in a real browser with the real trainer and inference: a smoke run trains
/// for seconds, then reviews of its checkpoints are opened, navigated, toggled, checked against
/// the engine's metrics, downloaded, compared; uploads are refused when corrupt or hostile and for
/// viewers; scrolling a 256×256 slice is timed.
/// </summary>
public partial class ReviewE2ETests(Xunit.Abstractions.ITestOutputHelper output) : E2ETest
{
    private const float LongWaitMs = 180_000;

    [System.Text.RegularExpressions.GeneratedRegex("/reviews/2[0-9]{7}-[0-9]{6}-[0-9a-f]{6}$")]
    private static partial System.Text.RegularExpressions.Regex ReviewUrl();

    private static async Task<RunRecord> TrainSmokeRunAsync(MedZooAppFactory app)
    {
        var run = app.Service().Start(AppTestHelpers.Admin, "review run", RunConfigJson.Serialize(TrainerRunExecutor.Smoke()));
        return await app.WaitForRunAsync(run.Id, r => r.Status.IsFinished(), "the smoke run to finish");
    }

    /// <summary>
    /// Clicks "Predict and review" and waits for the review's page (polling its address: Playwright's
    /// own wait could miss a quick Blazor navigation, see <see cref="BrowserSession.WaitForUrlAsync"/>).
    /// </summary>
    private async Task StartReviewAsync(IPage page, MedZooAppFactory app)
    {
        var repository = app.Services.GetRequiredService<IReviewStore>();
        var before = repository.List().Select(r => r.Id).ToHashSet();
        await BrowserSession.ClickAndWaitForUrlAsync(page, "#start-review", ReviewUrl());
        Assert.Contains(repository.List(), r => !before.Contains(r.Id) && page.Url.EndsWith(r.Id, StringComparison.Ordinal));
    }

    private static async Task<ReviewRecord> WaitReviewAsync(MedZooAppFactory app, string id)
    {
        var repo = app.Services.GetRequiredService<IReviewStore>();
        var deadline = DateTime.UtcNow.AddMilliseconds(LongWaitMs);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sub = app.Services.GetRequiredService<ReviewNotifier>().Subscribe(r =>
        {
            if (r.Id == id && r.Status is ReviewStatus.Completed or ReviewStatus.Failed) done.TrySetResult();
        });
        if (repo.Get(id)?.Status is not (ReviewStatus.Completed or ReviewStatus.Failed))
            await done.Task.WaitAsync(TimeSpan.FromMilliseconds(LongWaitMs));
        var review = repo.Get(id)!;
        Assert.True(review.Status == ReviewStatus.Completed, $"review failed: {review.Reason}");
        return review;
    }

    private static Task WaitViewerAsync(IPage page) =>
        page.WaitForSelectorAsync("#review-viewer[data-ready=true]", new PageWaitForSelectorOptions { Timeout = LongWaitMs, State = WaitForSelectorState.Attached });

    private static async Task<int> Drawn(IPage page, string canvas) =>
        int.Parse(await page.GetAttributeAsync(canvas, "data-drawn") ?? "0", CultureInfo.InvariantCulture);

    private static async Task<int> Slice(IPage page, string plane) =>
        int.Parse(await page.GetAttributeAsync($"[data-plane={plane}]", "data-slice") ?? "-1", CultureInfo.InvariantCulture);

    private static async Task<int[]> Cross(IPage page) =>
        (await page.GetAttributeAsync("#review-viewer", "data-cross"))!.Split(',').Select(int.Parse).ToArray();

    private static Task SetRangeAsync(IPage page, string selector, int value) =>
        page.EvalOnSelectorAsync(selector, "(e, v) => { e.value = v; e.dispatchEvent(new Event('input', { bubbles: true })); }", value);

    /// <summary>A canvas' pixels as RGBA bytes.</summary>
    private static async Task<int[]> Pixels(IPage page, string canvas) =>
        await page.EvalOnSelectorAsync<int[]>(canvas, "c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)");

    private static async Task WaitRedrawAsync(IPage page, string canvas, int before) =>
        await BrowserSession.WaitAsync(page, $"() => Number(document.querySelector('{canvas}')?.dataset.drawn) > {before}");

    [SkippableFact]
    public async Task TrainedRun_ReviewCrosshairTogglesMetricsDownloadsAndCompare()
    {
        BrowserSession.RequireChromium();
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = NewApp(folder.Path, executor: null);
        await using var browser = await BrowserSession.LaunchAsync();
        var address = app.Start();
        app.Services.GetRequiredService<UserService>().Create("watcher", "watcher-password", Roles.Viewer);
        var run = await TrainSmokeRunAsync(app);
        Assert.Equal(RunStatus.Completed, run.Status);

        // From the run: pick the best checkpoint and the first validation subject, and start.
        var page = await browser.NewPageAsync(address);
        await BrowserSession.SignInAsync(page, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword, $"/runs/{run.Id}");
        await page.ClickAsync("#review-run");
        await BrowserSession.WaitForUrlAsync(page, new System.Text.RegularExpressions.Regex($"/reviews\\?run={run.Id}$"));
        await BrowserSession.WaitInteractiveAsync(page);
        // The run came from the link and its first validation subject is chosen; the form is MudBlazor's, no native select.
        await BrowserSession.WaitAsync(page, "() => !!document.querySelector('#review-subject')?.value");
        Assert.Equal(0, await page.Locator("#new-review select").CountAsync());
        foreach (var field in new[] { "#review-run", "#review-checkpoint", "#review-subject" })
            Assert.True(await page.Locator(field).EvaluateAsync<bool>("e => !!e.closest('.mud-select')"), $"{field} is not a MudSelect");
        // With a run chosen (its long name shown) the form stays inside its card on a phone and on a laptop.
        var viewport = page.ViewportSize!;
        foreach (var width in new[] { 390, 1440 })
        {
            await page.SetViewportSizeAsync(width, 844);
            await BrowserSession.GotoAsync(page, $"/reviews?run={run.Id}"); // laid out for this screen, as a phone would open it
            await BrowserSession.WaitAsync(page, "() => !!document.querySelector('#review-subject')?.value");
            if (Environment.GetEnvironmentVariable("MEDZOO_SCREENSHOTS") is { Length: > 0 } formShots)
                await page.ScreenshotAsync(new() { Path = Path.Combine(formShots, $"reviews-form-{width}.png") });
            var outside = await page.EvaluateAsync<string[]>("""
                () => {
                    const card = document.querySelector('#new-review').getBoundingClientRect();
                    const out = ['review-run', 'review-checkpoint', 'review-subject', 'start-review']
                        .map(id => document.getElementById(id)).map(e => [e.id, (e.closest('.mud-select') ?? e).getBoundingClientRect()])
                        .filter(([id, r]) => r.left < card.left - 0.5 || r.right > card.right + 0.5)
                        .map(([id, r]) => `${id}@${Math.round(r.left)}..${Math.round(r.right)}`);
                    const extra = document.documentElement.scrollWidth - document.documentElement.clientWidth;
                    return extra > 0 ? [...out, `page scrolls ${extra} px sideways`] : out;
                }
                """);
            Assert.True(outside.Length == 0, $"at {width} px the New review form sticks out of its card: {string.Join("; ", outside)}");
        }
        await page.SetViewportSizeAsync(viewport.Width, viewport.Height);
        await BrowserSession.GotoAsync(page, $"/reviews?run={run.Id}");
        await BrowserSession.WaitAsync(page, "() => !!document.querySelector('#review-subject')?.value");
        Assert.EndsWith(" · validation", await page.InputValueAsync("#review-subject"), StringComparison.Ordinal);
        // Nothing of the selects' item lists shows outside their popovers.
        Assert.DoesNotContain("validation", await page.InnerTextAsync("#new-review"), StringComparison.OrdinalIgnoreCase);
        await page.ClickAsync("div.mud-select:has(#review-checkpoint)"); // the select's input is hidden: click its box
        await page.ClickAsync(".mud-popover-open .mud-list-item:has-text('best (epoch')");
        await BrowserSession.WaitAsync(page, "() => document.querySelector('#review-checkpoint').value.startsWith('best')");
        await StartReviewAsync(page, app);
        var reviewId = page.Url[(page.Url.LastIndexOf('/') + 1)..];
        var review = await WaitReviewAsync(app, reviewId);
        Assert.Equal("best", review.CheckpointKind);
        Assert.Equal(ReviewSource.Validation, review.Source);
        Assert.True(review.WindowsTotal > 0 && review.WindowsDone == review.WindowsTotal);
        await WaitViewerAsync(page);
        if (Environment.GetEnvironmentVariable("MEDZOO_SCREENSHOTS") is { Length: > 0 } shots)
            await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "review-viewer.png"), FullPage = true });
        // The viewer's controls are MudBlazor's, like the rest of the app: no bare select, range, radio or checkbox.
        Assert.Equal(0, await page.EvaluateAsync<int>(
            "() => [...document.querySelectorAll('#rv-controls input, #rv-controls select, #rv-classes input')].filter(e => !e.closest('.mud-slider, .mud-radio, .mud-checkbox, .mud-select, .mud-input-control')).length"));
        Assert.True(await page.Locator("#rv-opacity").EvaluateAsync<bool>("e => !!e.closest('.mud-slider')"), "the opacity control is not a MudSlider");
        // The slice sliders look like MudSliders: the theme's primary colour on the thumb, a filled track up to it.
        var primary = await page.EvaluateAsync<string>(
            "() => { const d = document.createElement('div'); d.style.color = 'var(--mud-palette-primary)'; document.body.append(d); const c = getComputedStyle(d).color; d.remove(); return c; }");
        foreach (var plane in new[] { "axial", "coronal", "sagittal" })
        {
            var slider = page.Locator($"#rv-slider-{plane}");
            Assert.True(await slider.EvaluateAsync<bool>("e => !!e.closest('.mud-slider.mud-slider-primary')"), $"the {plane} slice slider is not drawn as a MudSlider");
            Assert.Equal(primary, await slider.EvaluateAsync<string>("e => getComputedStyle(e).accentColor"));
            Assert.Equal(primary, await slider.EvaluateAsync<string>("e => getComputedStyle(e.closest('.mud-slider').querySelector('.mud-slider-filled')).backgroundColor"));
        }
        // Runs of one model on one dataset differ by name, and checkpoints of one run by epoch: the panel names both.
        Assert.Contains($"{run.Name} · best checkpoint, epoch {review.CheckpointEpoch}", await page.InnerTextAsync(".mz-review-metrics-title"));

        // Orientation labels on every view, as the affine and the radiological convention say.
        var dims = (review.Shape[0], review.Shape[1], review.Shape[2]);
        var views = ViewOrientation.For(review.Orientation);
        Assert.Equal("R", await page.InnerTextAsync("[data-plane=axial] .mz-rv-panel:first-child .mz-rv-l"));
        Assert.Equal("A", await page.InnerTextAsync("[data-plane=axial] .mz-rv-panel:first-child .mz-rv-t"));
        Assert.Equal("S", await page.InnerTextAsync("[data-plane=coronal] .mz-rv-panel:first-child .mz-rv-t"));
        Assert.Equal("A", await page.InnerTextAsync("[data-plane=sagittal] .mz-rv-panel:first-child .mz-rv-l"));

        // Clicking the axial plane moves the crosshair; the coronal and sagittal planes follow.
        var axialSlice = await Slice(page, "axial");
        var box = (await page.Locator("#rv-axial-image").BoundingBoxAsync())!;
        var coronalDrawn = await Drawn(page, "#rv-coronal-image");
        await page.Mouse.ClickAsync(box.X + box.Width * 0.2f, box.Y + box.Height * 0.8f);
        await WaitRedrawAsync(page, "#rv-coronal-image", coronalDrawn);
        var cross = await Cross(page);
        var (cols, rows) = views[0].SliceSize(dims);
        var (s, c, r) = views[0].FromVoxel(dims, (cross[0], cross[1], cross[2]));
        Assert.Equal(axialSlice, s);
        Assert.InRange(c, (int)(0.2 * cols) - 1, (int)(0.2 * cols) + 1);
        Assert.InRange(r, (int)(0.8 * rows) - 1, (int)(0.8 * rows) + 1);
        Assert.Equal(cross[views[1].FixedAxis], await Slice(page, "coronal"));
        Assert.Equal(cross[views[2].FixedAxis], await Slice(page, "sagittal"));

        // Keyboard and mouse wheel change one plane's slice.
        var sagittal = await Slice(page, "sagittal");
        await page.FocusAsync("[data-plane=sagittal]");
        await page.Keyboard.PressAsync(sagittal + 1 < views[2].Slices(dims) ? "ArrowUp" : "ArrowDown");
        await BrowserSession.WaitAsync(page, $"() => document.querySelector('[data-plane=sagittal]').dataset.slice !== '{sagittal}'");
        var coronal = await Slice(page, "coronal");
        await page.Locator("#rv-coronal-image").ScrollIntoViewIfNeededAsync();
        var cbox = (await page.Locator("#rv-coronal-image").BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(cbox.X + cbox.Width / 2, cbox.Y + cbox.Height / 2);
        await page.Mouse.WheelAsync(0, coronal > 0 ? 100 : -100);
        await BrowserSession.WaitAsync(page, $"() => document.querySelector('[data-plane=coronal]').dataset.slice !== '{coronal}'");

        // The ground-truth panel at full opacity shows exactly the classes the C# slicer cuts from the label.
        var d = RunConfigJson.Deserialize<TrainerOptions>(run.ConfigJson).Dataset;
        var definition = DatasetCatalog.Get(d.Name);
        var scan = definition.Scan(d);
        var raw = definition.Load(scan, scan.Subjects.First(x => x.Id == review.SubjectId), VolumeFileReader.Instance, d);
        axialSlice = await Slice(page, "axial");
        var truthSlice = PlaneSlicer.Extract<byte>(raw.Label!, dims, views[0], axialSlice);
        var palette = MedZoo.Web.Components.Shared.MzColors.ClassRgb(review.ClassNames.Count);
        var before = await Drawn(page, "#rv-axial-labels-truth");
        await SetRangeAsync(page, "#rv-opacity input, input#rv-opacity", 100);
        await WaitRedrawAsync(page, "#rv-axial-labels-truth", before);
        var px = await Pixels(page, "#rv-axial-labels-truth");
        for (var p = 0; p < truthSlice.Length; p++)
            if (truthSlice[p] > 0)
                Assert.Equal(palette[truthSlice[p]], px[(p * 4)..(p * 4 + 3)]);
        var shown = truthSlice.Where(v => v > 0).GroupBy(v => v).OrderByDescending(g => g.Count()).First().Key;

        // Toggling that class off leaves those pixels grey; opacity 0 shows the bare image.
        before = await Drawn(page, "#rv-axial-labels-truth");
        await page.UncheckAsync($"#rv-class-{shown} input, input#rv-class-{shown}");
        await WaitRedrawAsync(page, "#rv-axial-labels-truth", before);
        px = await Pixels(page, "#rv-axial-labels-truth");
        for (var p = 0; p < truthSlice.Length; p++)
            if (truthSlice[p] == shown)
                Assert.True(px[p * 4] == px[p * 4 + 1] && px[p * 4 + 1] == px[p * 4 + 2], $"pixel {p} of hidden class {shown} is coloured");
        await page.CheckAsync($"#rv-class-{shown} input, input#rv-class-{shown}");
        before = await Drawn(page, "#rv-axial-labels-truth");
        await SetRangeAsync(page, "#rv-opacity input, input#rv-opacity", 0);
        await WaitRedrawAsync(page, "#rv-axial-labels-truth", before);
        Assert.Equal(await Pixels(page, "#rv-axial-image"), await Pixels(page, "#rv-axial-labels-truth"));

        // Download the prediction: the input's grid and affine, exactly.
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#download-prediction"));
        var predictionPath = Path.Combine(folder.Path, "downloaded-prediction.nii.gz");
        await download.SaveAsAsync(predictionPath);
        var prediction = VolumeIO.Read(predictionPath);
        var inputBytes = await (await page.APIRequest.GetAsync($"/api/reviews/{reviewId}/input.nii.gz")).BodyAsync();
        var inputPath = Path.Combine(folder.Path, "input.nii.gz");
        await File.WriteAllBytesAsync(inputPath, inputBytes);
        var input = VolumeIO.Read(inputPath);
        Assert.Equal(input.Size, prediction.Size);
        Assert.Equal(input.Geometry, prediction.Geometry);
        Assert.Equal(raw.Geometry, prediction.Geometry);

        // The metrics table holds the engine's metrics of the downloaded prediction against the ground truth.
        var predicted = prediction.ToFloatArray().Select(v => (byte)v).ToArray();
        var engine = new SegmentationMetrics(review.ClassNames.Count, review.ClassNames)
            .Add<byte>(predicted, raw.Label!, new VolumeShape(raw.Size.D, raw.Size.H, raw.Size.W), VoxelSpacing.FromGeometry(raw.Geometry), review.SubjectId);
        var rows2 = page.Locator("#review-metrics tr[data-class]");
        Assert.Equal(review.ClassNames.Count, await rows2.CountAsync());
        static double Parse(string? s) => string.IsNullOrEmpty(s) ? double.NaN : double.Parse(s, CultureInfo.InvariantCulture);
        for (var k = 0; k < review.ClassNames.Count; k++)
        {
            var row = page.Locator($"#review-metrics tr[data-class='{k}']");
            Assert.Equal(engine.Classes[k].Dice, Parse(await row.GetAttributeAsync("data-dice")));
            Assert.Equal(engine.Classes[k].Iou, Parse(await row.GetAttributeAsync("data-iou")));
            Assert.Equal(engine.Classes[k].Hd95, Parse(await row.GetAttributeAsync("data-hd95")));
            Assert.Equal(engine.Classes[k].PredictedVolumeMm3, Parse(await row.GetAttributeAsync("data-pred-mm3")));
            Assert.Equal(engine.Classes[k].GroundTruthVolumeMm3, Parse(await row.GetAttributeAsync("data-truth-mm3")));
        }
        output.WriteLine($"engine mean foreground Dice {engine.MeanForegroundDice:0.000}; table rows match for {review.ClassNames.Count} classes");

        // The metrics CSV downloads with one row per class.
        var csvDownload = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#download-metrics"));
        var csvPath = Path.Combine(folder.Path, "metrics.csv");
        await csvDownload.SaveAsAsync(csvPath);
        var csv = await File.ReadAllLinesAsync(csvPath);
        Assert.Equal(string.Join(',', MetricsCsv.Columns), csv[0]);
        Assert.Equal(review.ClassNames.Count + 1, csv.Count(l => l.Length > 0));

        // Compare with the last checkpoint on the same subject, side by side.
        var other = app.Services.GetRequiredService<ReviewService>().Start(AppTestHelpers.Admin, run.Id, "last", ReviewSource.Validation, review.SubjectId);
        await WaitReviewAsync(app, other.Id);
        await BrowserSession.GotoAsync(page, "/reviews");
        Assert.Equal(0, await page.Locator("#reviews-table input[type=checkbox]:not(.mud-checkbox input)").CountAsync());
        await page.CheckAsync($"tr[data-review='{reviewId}'] .mz-review-select input");
        await page.CheckAsync($"tr[data-review='{other.Id}'] .mz-review-select input");
        await page.ClickAsync("#compare-reviews:not([disabled])");
        await BrowserSession.WaitForUrlAsync(page, new System.Text.RegularExpressions.Regex("/compare/"));
        await WaitViewerAsync(page);
        Assert.Equal(1, await page.Locator("#rv-axial-labels-0").CountAsync());
        Assert.Equal(1, await page.Locator("#rv-axial-labels-1").CountAsync());
        Assert.Equal(1, await page.Locator("#review-metrics-b").CountAsync());
        var captions = await page.Locator("[data-plane=axial] .mz-rv-caption").AllInnerTextsAsync();
        var otherEpoch = (await WaitReviewAsync(app, other.Id)).CheckpointEpoch;
        Assert.Contains($"{run.Name} · best, epoch {review.CheckpointEpoch}", captions);
        Assert.Contains($"{run.Name} · last, epoch {otherEpoch}", captions);

        // A viewer looks at the review but cannot upload: no form, and the server refuses the request.
        var viewer = await browser.NewPageAsync(address);
        await BrowserSession.SignInAsync(viewer, "watcher", "watcher-password", $"/reviews/{reviewId}");
        await WaitViewerAsync(viewer);
        await BrowserSession.GotoAsync(viewer, "/reviews");
        await viewer.WaitForSelectorAsync("#upload-denied");
        Assert.Equal(0, await viewer.Locator("#upload-images").CountAsync());
        Assert.Equal(0, await viewer.Locator("#start-review").CountAsync());
        var refused = await viewer.APIRequest.PostAsync("/api/uploads", new APIRequestContextOptions
        {
            Multipart = viewer.APIRequest.CreateFormData().Append("images", new FilePayload { Name = "t1.nii.gz", MimeType = "application/gzip", Buffer = inputBytes }),
        });
        Assert.Equal(403, refused.Status);
        Assert.Empty(app.Services.GetRequiredService<IReviewStore>().Uploads());
    }

    [SkippableFact]
    public async Task Upload_CorruptAndHostileRefused_ValidReviewedWithProgress_ScrollsTenSlicesPerSecond()
    {
        BrowserSession.RequireChromium();
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = NewApp(folder.Path, executor: null);
        await using var browser = await BrowserSession.LaunchAsync();
        // Windows that do not overlap: the 256×256 upload is reviewed in seconds, not minutes, even under the whole suite.
        app.Settings["MedZoo:Review:Overlap"] = "0";
        var address = app.Start();
        var run = await TrainSmokeRunAsync(app);
        var page = await browser.NewPageAsync(address);
        await BrowserSession.SignInAsync(page, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword, "/reviews");

        // A corrupt file: a clear message naming it, and the app keeps serving.
        var corrupt = Path.Combine(folder.Path, "corrupt.nii.gz");
        await File.WriteAllBytesAsync(corrupt, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8]);
        await page.SetInputFilesAsync("#upload-images", corrupt);
        await page.ClickAsync("#upload-submit:not([disabled])");
        var error = await page.WaitForSelectorAsync("#upload-error");
        var message = await error!.InnerTextAsync();
        Assert.Contains("corrupt.nii.gz", message, StringComparison.Ordinal);
        output.WriteLine($"corrupt upload: {message}");

        // A header declaring an absurd size is refused before anything is allocated for it.
        var hostile = Path.Combine(folder.Path, "hostile.nii");
        var h = new byte[352];
        BitConverter.GetBytes(348).CopyTo(h, 0);
        foreach (var (value, at) in new[] { (3, 40), (32000, 42), (32000, 44), (32000, 46), (16, 70), (32, 72) })
            BitConverter.GetBytes((short)value).CopyTo(h, at);
        BitConverter.GetBytes(352f).CopyTo(h, 108);
        "n+1\0"u8.ToArray().CopyTo(h, 344);
        await File.WriteAllBytesAsync(hostile, h);
        await page.SetInputFilesAsync("#upload-images", hostile);
        await page.ClickAsync("#upload-submit:not([disabled])");
        await page.WaitForSelectorAsync("#upload-error:has-text('hostile.nii')");
        output.WriteLine($"hostile upload: {await page.InnerTextAsync("#upload-error")}");

        // A valid 256×256×12 subject (one file per modality, LPS affine) with its label.
        const int X = 256, Y = 256, Z = 12;
        var geometry = new VolumeGeometry([-0.9375, 0, 0, 119.5, 0, -0.9375, 0, 101.25, 0, 0, 3, -18, 0, 0, 0, 1]);
        var label = new byte[X * Y * Z];
        for (var k = 0; k < Z; k++)
            for (var j = 0; j < Y; j++)
                for (var i = 0; i < X; i++)
                {
                    var rr = Math.Sqrt((i - 128.0) * (i - 128.0) + (j - 120.0) * (j - 120.0));
                    label[(k * Y + j) * X + i] = (byte)(rr < 40 ? 3 : rr < 70 ? 2 : rr < 100 ? 1 : 0);
                }
        var rng = new Random(3);
        var paths = new List<string>();
        foreach (var (m, n) in BrainPhantom.Modalities(PhantomKind.Tissue).Select((m, n) => (m, n)))
        {
            var img = label.Select(l => (float)(l * (n == 0 ? 30 : -20) + 100 + rng.NextDouble() * 10)).ToArray();
            var path = Path.Combine(folder.Path, $"{m}.nii.gz");
            VolumeIO.Write(Volume.FromArray<float>(img, [X, Y, Z], geometry), path);
            paths.Add(path);
        }
        var labelPath = Path.Combine(folder.Path, "seg.nii.gz");
        VolumeIO.Write(Volume.FromArray<byte>(label, [X, Y, Z], geometry), labelPath);
        await page.SetInputFilesAsync("#upload-images", paths);
        await page.SetInputFilesAsync("#upload-label", labelPath);
        await page.FillAsync("#upload-name", "big subject");
        await page.ClickAsync("#upload-submit:not([disabled])");
        await page.WaitForSelectorAsync("#uploads-table tr:has-text('big subject')");
        var upload = app.Services.GetRequiredService<IReviewStore>().Uploads().Single();
        Assert.Equal("LPS", upload.Orientation);

        // Review it; the page shows the inference progress, then the planes.
        await BrowserSession.GotoAsync(page, $"/reviews?run={run.Id}");
        await BrowserSession.WaitAsync(page, "() => !!document.querySelector('#review-subject')?.value");
        await page.ClickAsync("div.mud-select:has(#review-subject)");
        await page.ClickAsync(".mud-popover-open .mud-list-item:has-text('big subject')");
        await BrowserSession.WaitAsync(page, "() => document.querySelector('#review-subject').value === 'big subject · uploaded'");
        await StartReviewAsync(page, app);
        await BrowserSession.WaitInteractiveAsync(page);
        // Progress shows while the windows are predicted (or the review was already finished when the page opened).
        await page.WaitForSelectorAsync("#review-progress[data-total]:not([data-total='0']), #review-viewer[data-ready=true]",
            new PageWaitForSelectorOptions { Timeout = LongWaitMs, State = WaitForSelectorState.Attached });
        var sawProgress = await page.Locator("#review-progress[data-total]").CountAsync() > 0;
        var reviewId = page.Url[(page.Url.LastIndexOf('/') + 1)..];
        var review = await WaitReviewAsync(app, reviewId);
        await WaitViewerAsync(page);
        Assert.True(review.HasGroundTruth);
        Assert.True(review.WindowsTotal > 0 && review.WindowsDone == review.WindowsTotal);
        output.WriteLine(sawProgress ? $"progress seen: {review.WindowsTotal} windows" : "progress not seen: the review had finished when its page opened");

        // The downloaded prediction has the uploaded input's exact geometry.
        var bytes = await (await page.APIRequest.GetAsync($"/api/reviews/{reviewId}/prediction.nii.gz")).BodyAsync();
        var predPath = Path.Combine(folder.Path, "pred.nii.gz");
        await File.WriteAllBytesAsync(predPath, bytes);
        var pred = VolumeIO.Read(predPath);
        var uploaded = VolumeIO.Read(paths[0]);
        Assert.Equal(uploaded.Size, pred.Size);
        Assert.Equal(uploaded.Geometry, pred.Geometry);

        // Scrolling: wheel events over the axial plane, each waiting for the next frame; four 256×256 panels redrawn per slice.
        Assert.Equal((256, 256), ViewOrientation.For(review.Orientation)[0].SliceSize((X, Y, Z)));
        const int Steps = 60;
        var result = await page.EvaluateAsync<double[]>("""
            async (n) => {
                const plane = document.querySelector('[data-plane=axial]');
                const canvas = plane.querySelector('canvas');
                const count = Number(plane.querySelector('.mz-rv-slider').max) + 1;
                const before = Number(plane.dataset.drawn);
                let dir = 100;
                const t0 = performance.now();
                for (let i = 0; i < n; i++) {
                    const s = Number(plane.dataset.slice);
                    if (s === 0) dir = -100; else if (s === count - 1) dir = 100;
                    canvas.dispatchEvent(new WheelEvent('wheel', { deltaY: dir, bubbles: true, cancelable: true }));
                    await new Promise(r => requestAnimationFrame(() => r()));
                }
                const seconds = (performance.now() - t0) / 1000;
                return [Number(plane.dataset.drawn) - before, seconds, canvas.width, canvas.height];
            }
            """, Steps);
        var slicesPerSecond = result[0] / result[1];
        output.WriteLine(FormattableString.Invariant($"scrolling: {result[0]} slices of {result[2]}×{result[3]} (4 panels each) in {result[1]:0.000} s = {slicesPerSecond:0.0} slices/s"));
        Assert.Equal(Steps, (int)result[0]);
        Assert.True(slicesPerSecond >= 10, $"{slicesPerSecond:0.0} slices/s is below 10");

        // Removing the upload deletes its files.
        await BrowserSession.GotoAsync(page, "/reviews");
        await page.ClickAsync($"tr[data-upload='{upload.Id}'] .mz-upload-remove");
        await BrowserSession.WaitAsync(page, $"() => !document.querySelector(\"tr[data-upload='{upload.Id}']\")");
        var files = app.Services.GetRequiredService<IReviewFiles>();
        Assert.Equal(Array.Empty<string>(), upload.Files.Select(f => f.Name).Where(name => files.Exists(ReviewFileArea.Uploads, upload.Id, name)).ToArray());
        Assert.False(Directory.Exists(Path.Combine(folder.Path, "uploads", upload.Id)));
    }
}

/// <summary>
/// The same tests with the dashboard as a cluster web node: the smoke run trained and the reviews predicted by a
/// worker, uploads and review files shared through PostgreSQL.
/// </summary>
[Collection(ClusterHosts.Collection)]
public sealed class ReviewE2ETests_Cluster(ClusterHosts cluster, Xunit.Abstractions.ITestOutputHelper output) : ReviewE2ETests(output)
{
    protected override IDashboardHosts Hosts => cluster;
}
