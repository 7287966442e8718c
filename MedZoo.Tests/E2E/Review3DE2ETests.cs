using System.Globalization;
using System.Text.Json;
using MedZoo.Engine.IO;
using MedZoo.Tests.Cluster;
using MedZoo.Tests.TestSupport;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Reviews;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace MedZoo.Tests.E2E;

/// <summary>
/// The review's 3D view (NiiVue, copied from npm by the build) in real headless Chromium with WebGL
/// drawn by SwiftShader: loaded only when opened, rendering the label volumes in their class colours
/// (read back from its canvases), on the slice viewer's crosshair both ways, its WebGL contexts
/// released when closed. The review's files are stored through <see cref="IReviewFiles"/> as the review runner leaves
/// them (no training needed): in the data folder in embedded mode, in PostgreSQL in cluster mode.
/// </summary>
public class Review3DE2ETests(Xunit.Abstractions.ITestOutputHelper output) : E2ETest
{
    private const int X = 24, Y = 20, Z = 16;

    // LPS-like storage (i → left, j → posterior), 1.5 × 2 × 2.5 mm, off-centre: voxel → mm is not the identity.
    private static readonly VolumeGeometry Geometry = new([-1.5, 0, 0, 40, 0, -2, 0, 30, 0, 0, 2.5, -25, 0, 0, 0, 1]);

    private static readonly string[] Classes = ["background", "outer", "middle", "core"];

    /// <summary>Nested balls of classes 1..3 around (cx, cy, cz), in file order (i fastest).</summary>
    private static byte[] Balls(double cx, double cy, double cz)
    {
        var labels = new byte[X * Y * Z];
        for (var k = 0; k < Z; k++)
            for (var j = 0; j < Y; j++)
                for (var i = 0; i < X; i++)
                {
                    var r = Math.Sqrt((i - cx) * (i - cx) + (j - cy) * (j - cy) + (k - cz) * (k - cz));
                    labels[(k * Y + j) * X + i] = (byte)(r < 2.5 ? 3 : r < 4.5 ? 2 : r < 6.5 ? 1 : 0);
                }
        return labels;
    }

    /// <summary>A completed review of one subject with ground truth, as the review worker leaves it.</summary>
    private static ReviewRecord SeedReview(MedZooAppFactory app)
    {
        var review = new ReviewRecord
        {
            Id = "20261207-030000-3d0001", RunId = "run-3d", RunName = "3d run", CheckpointKind = "best", CheckpointEpoch = 2,
            Source = ReviewSource.Upload, SubjectId = "u1", SubjectName = "balls", SubjectKey = "upload:u1", Status = ReviewStatus.Completed,
            CreatedBy = MedZooAppFactory.AdminName, CreatedAt = DateTime.UtcNow, FinishedAt = DateTime.UtcNow,
            Shape = [X, Y, Z], Spacing = [.. Geometry.Spacing], Orientation = Geometry.Orientation, Modalities = ["T1"],
            ClassNames = [.. Classes], HasGroundTruth = true, DisplayRanges = [[0, 1000, 0, 1000]],
        };
        var prediction = Balls(12, 10, 8);
        var truth = Balls(10, 10, 8);
        var image = new ushort[X * Y * Z];
        for (var p = 0; p < image.Length; p++) image[p] = (ushort)(prediction[p] * 15000 + p % 97);
        using (var staged = app.Services.GetRequiredService<IReviewFiles>().Stage(ReviewFileArea.Reviews, review.Id))
        {
            VolumeIO.Write(Volume.FromArray<byte>(prediction, [X, Y, Z], Geometry), staged.File("prediction.nii.gz"));
            File.WriteAllBytes(staged.File("prediction.u8"), prediction);
            File.WriteAllBytes(staged.File("truth.u8"), truth);
            File.WriteAllBytes(staged.File("image-0.u16"), System.Runtime.InteropServices.MemoryMarshal.AsBytes(image.AsSpan()).ToArray());
            staged.Commit();
        }
        app.Services.GetRequiredService<IReviewStore>().Save(review);
        return review;
    }

    private static async Task<int[]> Cross(IPage page) =>
        (await page.GetAttributeAsync("#review-viewer", "data-cross"))!.Split(',').Select(int.Parse).ToArray();

    /// <summary>review3d.js's snapshot of the open panel: per canvas the crosshair and the pixels read back from a fresh draw.</summary>
    private static async Task<JsonElement> Snapshot(IPage page) =>
        await page.EvaluateAsync<JsonElement>("""
            async () => {
                const m = await import('/js/review3d.js');
                return m.snapshot(document.querySelector('#rv3d-panels').dataset.view);
            }
            """);

    private static double[] Mm(int[] voxel)
    {
        var a = Geometry.AffineRows;
        return [.. Enumerable.Range(0, 3).Select(r => a[r][0] * voxel[0] + a[r][1] * voxel[1] + a[r][2] * voxel[2] + a[r][3])];
    }

    /// <summary>Every canvas' NiiVue crosshair sits at the 2D crosshair's voxel, in mm through the affine.</summary>
    private static void AssertCrosshairAt(JsonElement snapshot, int[] voxel)
    {
        Assert.Equal(voxel, snapshot.GetProperty("voxel").EnumerateArray().Select(v => v.GetInt32()).ToArray());
        var expected = Mm(voxel);
        foreach (var layer in snapshot.GetProperty("layers").EnumerateArray())
        {
            var mm = layer.GetProperty("crosshairMm").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            for (var a = 0; a < 3; a++)
                Assert.True(Math.Abs(mm[a] - expected[a]) < 1e-3,
                    $"{layer.GetProperty("title")}: NiiVue's crosshair is at ({string.Join(", ", mm)}) mm, voxel ({string.Join(", ", voxel)}) is at ({string.Join(", ", expected)}) mm");
        }
    }

    [SkippableFact]
    public async Task ThreeDView_OpenedOnReview_RendersLabelsInClassColoursLinkedToCrosshairAndReleasesWebGl()
    {
        BrowserSession.RequireChromium();
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = NewApp(folder.Path, executor: null);
        await using var browser = await BrowserSession.LaunchWithWebGlAsync();
        var address = app.Start();
        var review = SeedReview(app);

        var page = await browser.NewPageAsync(address);
        var requests = new System.Collections.Concurrent.ConcurrentQueue<string>();
        page.Request += (_, r) => requests.Enqueue(new Uri(r.Url).AbsolutePath);
        await BrowserSession.SignInAsync(page, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword, $"/reviews/{review.Id}");
        await page.WaitForSelectorAsync("#review-viewer[data-ready=true]", new() { State = WaitForSelectorState.Attached });

        // Lazy: nothing of NiiVue is fetched until the 3D view is switched on.
        Assert.Equal(0, await page.Locator("#rv3d-panels").CountAsync());
        Assert.DoesNotContain(requests, u => u.Contains("niivue", StringComparison.Ordinal) || u.EndsWith("review3d.js", StringComparison.Ordinal));
        var toggle = page.Locator("#rv3d-toggle input, input#rv3d-toggle");
        await toggle.CheckAsync();
        await page.WaitForSelectorAsync("#rv3d-panels[data-ready=true], #rv3d-error", new() { State = WaitForSelectorState.Attached });
        Assert.True(await page.Locator("#rv3d-error").CountAsync() == 0, await page.Locator("#rv3d-error").CountAsync() == 0 ? "" : await page.InnerTextAsync("#rv3d-error"));
        // The page's import map may name the fingerprinted copy (niivue.<hash>.js).
        Assert.Contains(requests, u => u.StartsWith("/lib/niivue/niivue.", StringComparison.Ordinal) && u.EndsWith(".js", StringComparison.Ordinal));
        Assert.Contains($"/api/reviews/{review.Id}/prediction.nii.gz", requests);
        Assert.Equal(["Prediction (3D)", "Ground truth (3D)"], await page.Locator("#rv3d-panels .mz-rv-caption").AllInnerTextsAsync());

        // Rendered: both canvases show the outer class's colour (its shades), over a black background.
        var first = await Snapshot(page);
        foreach (var layer in first.GetProperty("layers").EnumerateArray())
        {
            var counts = layer.GetProperty("counts").EnumerateArray().Select(c => c.GetInt32()).ToArray();
            var pixels = layer.GetProperty("width").GetInt32() * layer.GetProperty("height").GetInt32();
            output.WriteLine($"{layer.GetProperty("title")}: {layer.GetProperty("width")}×{layer.GetProperty("height")}, background {layer.GetProperty("background")}, classes [{string.Join(", ", counts)}], other {layer.GetProperty("other")}");
            Assert.True(counts[1] > pixels / 50, $"{layer.GetProperty("title")}: only {counts[1]} of {pixels} pixels show class 1's colour");
            Assert.True(layer.GetProperty("background").GetInt32() > pixels / 10, "no background around the rendered labels");
        }

        // The viewer's class toggles: hiding the outer class shows the middle one inside it, in its own colour.
        await page.UncheckAsync("#rv-class-1 input, input#rv-class-1");
        await page.WaitForSelectorAsync("#rv3d-panels[data-visible='1011']", new() { State = WaitForSelectorState.Attached });
        foreach (var layer in (await Snapshot(page)).GetProperty("layers").EnumerateArray())
        {
            var counts = layer.GetProperty("counts").EnumerateArray().Select(c => c.GetInt32()).ToArray();
            var pixels = layer.GetProperty("width").GetInt32() * layer.GetProperty("height").GetInt32();
            output.WriteLine($"{layer.GetProperty("title")} without class 1: classes [{string.Join(", ", counts)}]");
            Assert.True(counts[1] < pixels / 1000, $"{layer.GetProperty("title")}: hidden class 1 still shows on {counts[1]} pixels");
            Assert.True(counts[2] > pixels / 100, $"{layer.GetProperty("title")}: only {counts[2]} of {pixels} pixels show class 2 once class 1 is hidden");
        }
        await page.CheckAsync("#rv-class-1 input, input#rv-class-1");
        await page.WaitForSelectorAsync("#rv3d-panels[data-visible='1111']", new() { State = WaitForSelectorState.Attached });

        // 2D → 3D: a click in the axial plane moves NiiVue's crosshair to that voxel's position in mm.
        AssertCrosshairAt(first, await Cross(page));
        var axial = page.Locator("#rv-axial-image");
        var box = (await axial.BoundingBoxAsync())!;
        await axial.ClickAsync(new() { Position = new() { X = box.Width * 0.2f, Y = box.Height * 0.3f } });
        await BrowserSession.WaitAsync(page, "c => document.querySelector('#review-viewer').dataset.cross !== c", string.Join(',', first.GetProperty("voxel").EnumerateArray().Select(v => v.GetInt32())));
        var moved = await Cross(page);
        await BrowserSession.WaitAsync(page, "v => document.querySelector('#rv3d-panels').dataset.voxel === v", string.Join(',', moved));
        var second = await Snapshot(page);
        AssertCrosshairAt(second, moved);
        Assert.NotEqual(first.GetProperty("layers")[0].GetProperty("crosshairPos").ToString(), second.GetProperty("layers")[0].GetProperty("crosshairPos").ToString());

        // 3D → 2D: a click on the rendered balls moves the slices to the voxel NiiVue picked, on the labels' surface.
        var canvas = page.Locator("#rv3d-canvas-0");
        var size = (await canvas.BoundingBoxAsync())!;
        await canvas.ClickAsync(new() { Position = new() { X = size.Width / 2, Y = size.Height / 2 } });
        await BrowserSession.WaitAsync(page, "c => document.querySelector('#review-viewer').dataset.cross !== c", string.Join(',', moved));
        var picked = await Cross(page);
        output.WriteLine($"2D click moved the crosshair to voxel ({string.Join(", ", moved)}); 3D click to ({string.Join(", ", picked)})");
        await BrowserSession.WaitAsync(page, "v => document.querySelector('#rv3d-panels').dataset.voxel === v", string.Join(',', picked));
        AssertCrosshairAt(await Snapshot(page), picked);
        var centre = new[] { 12, 10, 8 };
        var distance = Math.Sqrt(picked.Zip(centre, (p, c) => (double)(p - c) * (p - c)).Sum());
        Assert.True(distance < 8, $"the 3D click picked voxel ({string.Join(", ", picked)}), {distance:0.0} voxels from the balls' centre: not on their surface");
        Assert.Contains("voxel (" + string.Join(", ", picked) + ")", await page.InnerTextAsync(".mz-rv-status"));

        // Closing releases the WebGL contexts and the panels.
        await page.EvaluateAsync("() => { window.__rv3dGl = [...document.querySelectorAll('#rv3d-panels canvas')].map(c => c.getContext('webgl2')); }");
        Assert.Equal(2, await page.EvaluateAsync<int>("() => window.__rv3dGl.filter(g => g && !g.isContextLost()).length"));
        await toggle.UncheckAsync();
        await page.WaitForSelectorAsync("#rv3d-panels", new() { State = WaitForSelectorState.Detached });
        await BrowserSession.WaitAsync(page, "() => window.__rv3dGl.every(g => g.isContextLost())");
        // The 2D viewer goes on working without it.
        await axial.ClickAsync(new() { Position = new() { X = box.Width * 0.7f, Y = box.Height * 0.6f } });
        await BrowserSession.WaitAsync(page, "c => document.querySelector('#review-viewer').dataset.cross !== c", string.Join(',', picked));
    }

    [Fact]
    public async Task NiiVueFile_Served_IsThePinnedVersion()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = NewApp(folder.Path, executor: null);
        var address = app.Start();
        using var package = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "MedZoo.Web", "package.json")));
        var pinned = package.RootElement.GetProperty("dependencies").GetProperty("@niivue/niivue").GetString()!;
        Assert.Matches("^[0-9]+\\.[0-9]+\\.[0-9]+$", pinned); // an exact version, not a range
        using var lockFile = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "MedZoo.Web", "package-lock.json")));
        Assert.Equal(pinned, lockFile.RootElement.GetProperty("packages").GetProperty("node_modules/@niivue/niivue").GetProperty("version").GetString());

        using var client = new HttpClient { BaseAddress = address };
        using var response = await client.GetAsync("/lib/niivue/niivue.js");
        Assert.True(response.IsSuccessStatusCode, $"/lib/niivue/niivue.js answered {(int)response.StatusCode}: the build did not copy NiiVue (is npm installed?)");
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains($"version: \"{pinned}\"", text, StringComparison.Ordinal);
        Assert.Contains("export {", text, StringComparison.Ordinal);
        output.WriteLine(FormattableString.Invariant($"/lib/niivue/niivue.js: NiiVue {pinned}, {text.Length / 1e6:0.0} MB"));
    }
}

/// <summary>The same tests with the dashboard as a cluster web node, the review's files in PostgreSQL.</summary>
[Collection(ClusterHosts.Collection)]
public sealed class Review3DE2ETests_Cluster(ClusterHosts cluster, Xunit.Abstractions.ITestOutputHelper output) : Review3DE2ETests(output)
{
    protected override IDashboardHosts Hosts => cluster;
}
