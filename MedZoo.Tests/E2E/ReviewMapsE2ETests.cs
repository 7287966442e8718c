using MedZoo.Engine.Inference;
using MedZoo.Engine.IO;
using MedZoo.Engine.Training;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Imaging;
using MedZoo.Web.Runs;
using Microsoft.Playwright;

namespace MedZoo.Tests.E2E;

/// <summary>
/// Reviews with mirroring test-time augmentation, and their probability and entropy maps: chosen
/// on the New review form, drawn as overlays of the viewer with their colour scale, downloaded as
/// float32 NIfTI on the input's grid.
/// </summary>
public partial class ReviewE2ETests
{
    /// <summary>Picks an item of the viewer's Map select (a MudSelect: its input is hidden, so click its box).</summary>
    private static async Task ChooseMapAsync(IPage page, string item)
    {
        await page.ClickAsync("div.mud-select:has(#rv-map)");
        await page.ClickAsync($".mud-popover-open .mud-list-item:has-text('{item}')");
    }

    /// <summary>
    /// The smoke run, waited for up to <see cref="LongWaitMs"/>: on a loaded 2-core machine loading
    /// libtorch and two epochs can take longer than the shared helpers' one minute.
    /// </summary>
    private static async Task<RunRecord> TrainSmokeRunPatientlyAsync(MedZooAppFactory app)
    {
        var run = app.Service().Start(AppTestHelpers.Admin, "tta run", RunConfigJson.Serialize(TrainerRunExecutor.Smoke()));
        var deadline = DateTime.UtcNow.AddMilliseconds(LongWaitMs);
        while (app.Runs().Get(run.Id) is { } now && !now.Status.IsFinished())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the smoke run did not finish in {LongWaitMs / 1000} s (now {now.Status})");
            await Task.Delay(250);
        }
        return app.Runs().Get(run.Id)!;
    }

    [SkippableFact]
    public async Task TrainedRun_TtaReviewShowsProbabilityAndEntropyMapsWithLegendAndDownloadsThem()
    {
        BrowserSession.RequireChromium();
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = NewApp(folder.Path, executor: null);
        await using var browser = await BrowserSession.LaunchAsync();
        var address = app.Start();
        var run = await TrainSmokeRunPatientlyAsync(app);
        Assert.Equal(RunStatus.Completed, run.Status);

        // The New review form: mirroring TTA is a MudBlazor checkbox, off by default.
        var page = await browser.NewPageAsync(address);
        await BrowserSession.SignInAsync(page, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword, $"/reviews?run={run.Id}");
        await BrowserSession.WaitInteractiveAsync(page);
        await BrowserSession.WaitAsync(page, "() => !!document.querySelector('#review-subject')?.value");
        var tta = page.Locator("#review-tta input, input#review-tta");
        Assert.True(await tta.EvaluateAsync<bool>("e => !!e.closest('.mud-checkbox')"), "the TTA option is not a MudCheckBox");
        Assert.False(await tta.IsCheckedAsync());
        await tta.CheckAsync();
        await StartReviewAsync(page, app);
        var reviewId = page.Url[(page.Url.LastIndexOf('/') + 1)..];
        var review = await WaitReviewAsync(app, reviewId);
        Assert.True(review.TestTimeAugmentation);
        Assert.True(review.HasProbabilities);
        // 8 passes per window: the progress counted every one.
        var patch = RunConfigJson.Deserialize<TrainerOptions>(run.ConfigJson).Sampling.PatchSize;
        var windows = new SlidingWindowInferer(new SlidingWindowOptions { WindowSize = patch, Overlap = 0.5 })
            .WindowStarts(review.Shape[2], review.Shape[1], review.Shape[0]).Count;
        Assert.Equal(8 * windows, review.WindowsTotal);
        await WaitViewerAsync(page);
        Assert.Contains("mirroring TTA", await page.InnerTextAsync(".mz-review-status"));

        // Labels by default: no map panel, no legend.
        Assert.Equal(0, await page.Locator("#rv-axial-map-0").CountAsync());
        Assert.Equal(0, await page.Locator("#rv-map-legend").CountAsync());
        var image = await Pixels(page, "#rv-axial-image");

        // P(class 1): a heat-map panel in every plane, and the legend with its scale from 0 to 1.
        var name = review.ClassNames[1];
        await ChooseMapAsync(page, $"P({name})");
        await page.WaitForSelectorAsync("#review-viewer[data-map=probability-1]", new() { State = WaitForSelectorState.Attached });
        foreach (var plane in new[] { "axial", "coronal", "sagittal" })
            Assert.Equal(1, await page.Locator($"#rv-{plane}-map-0").CountAsync());
        Assert.Contains($"P({name})", await page.InnerTextAsync("#rv-axial-map-0 >> xpath=../preceding-sibling::div[contains(@class,'mz-rv-caption')]"));
        var legend = page.Locator("#rv-map-legend");
        Assert.True(await legend.IsVisibleAsync());
        Assert.Contains($"P({name})", await legend.InnerTextAsync());
        Assert.Equal(["0", "1"], await legend.Locator(".mz-rv-legend-end").AllInnerTextsAsync());
        var bar = await legend.Locator(".mz-rv-legend-bar").EvaluateAsync<string>("e => getComputedStyle(e).backgroundImage");
        Assert.StartsWith("linear-gradient", bar);
        Assert.Contains("rgb(68, 1, 84)", bar);
        Assert.True((await legend.Locator(".mz-rv-legend-bar").BoundingBoxAsync())!.Width > 50, "the colour scale is not drawn");
        var probability = await Pixels(page, "#rv-axial-map-0");
        Assert.NotEqual(image, probability);

        // The map panel draws the stored probabilities with the legend's colours at the viewer's opacity (50 %).
        var cross = await Cross(page);
        var views = ViewOrientation.For(review.Orientation);
        var dims = (review.Shape[0], review.Shape[1], review.Shape[2]);
        var stored = await (await page.APIRequest.GetAsync($"/api/reviews/{reviewId}/data/probability-1.u8")).BodyAsync();
        var slice = PlaneSlicer.Extract<byte>(stored, dims, views[0], cross[views[0].FixedAxis]);
        var lut = ProbabilityMaps.Lut();
        for (var p = 0; p < slice.Length; p += 7)
            for (var k = 0; k < 3; k++)
                Assert.InRange(probability[p * 4 + k], (int)(image[p * 4 + k] * 0.5 + lut[slice[p] * 3 + k] * 0.5) - 1, (int)(image[p * 4 + k] * 0.5 + lut[slice[p] * 3 + k] * 0.5) + 1);

        // Entropy: another picture, another legend.
        await ChooseMapAsync(page, "entropy");
        await page.WaitForSelectorAsync("#review-viewer[data-map=entropy]", new() { State = WaitForSelectorState.Attached });
        await BrowserSession.WaitAsync(page, "() => document.querySelector('#rv-map-legend')?.dataset.map === 'entropy'");
        Assert.Contains("Entropy, nats", await legend.InnerTextAsync());
        Assert.Contains("(uniform)", await legend.InnerTextAsync());
        Assert.NotEqual(probability, await Pixels(page, "#rv-axial-map-0"));

        // Back to labels: the map panels and the legend go.
        await ChooseMapAsync(page, "labels");
        await page.WaitForSelectorAsync("#review-viewer[data-map=none]", new() { State = WaitForSelectorState.Attached });
        Assert.Equal(0, await page.Locator("#rv-axial-map-0").CountAsync());
        Assert.Equal(0, await page.Locator("#rv-map-legend").CountAsync());

        // Download: float32 probabilities (x, y, z, classes) on the prediction's grid, summing to 1, whose argmax is the prediction.
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#download-probabilities"));
        var path = Path.Combine(folder.Path, "downloaded-probabilities.nii.gz");
        await download.SaveAsAsync(path);
        var probabilities = VolumeIO.Read(path);
        var predictionPath = Path.Combine(folder.Path, "prediction.nii.gz");
        await File.WriteAllBytesAsync(predictionPath, await (await page.APIRequest.GetAsync($"/api/reviews/{reviewId}/prediction.nii.gz")).BodyAsync());
        var prediction = VolumeIO.Read(predictionPath);
        var classes = review.ClassNames.Count;
        Assert.Equal([.. review.Shape, classes], probabilities.Shape);
        Assert.Equal(VoxelType.Float32, probabilities.DataType);
        Assert.True(probabilities.Geometry.ApproximatelyEquals(prediction.Geometry, 1e-6), probabilities.Geometry.ToString());
        var values = probabilities.ToFloatArray();
        var labels = prediction.ToFloatArray();
        var n = labels.Length;
        for (var i = 0; i < n; i++)
        {
            var sum = 0f;
            var max = 0f;
            for (var c = 0; c < classes; c++)
            {
                sum += values[c * n + i];
                max = Math.Max(max, values[c * n + i]);
            }
            Assert.InRange(sum, 1 - classes / 510f - 1e-5f, 1 + classes / 510f + 1e-5f);
            // The predicted class is the most likely one; quantised to 1/255, a near-tie may show another up to one level higher.
            var predicted = values[(int)labels[i] * n + i];
            Assert.True(predicted >= max - 1 / 255f - 1e-5f, $"voxel {i}: predicted class {labels[i]} has p {predicted}, another has {max}");
        }
    }
}
