using Bunit;
using MedZoo.Tests.TestSupport;
using MedZoo.Tests.Web.Components;
using MedZoo.Web.Reviews.Pages.Components;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;

namespace MedZoo.Tests.Web.Reviews.Pages.Components;

/// <summary>
/// The review's 3D switch: without NiiVue in the build (no npm when it was built) it says so and loads
/// nothing; with it, it opens js/review3d.js on the slice viewer's id and the review's prediction download.
/// </summary>
public sealed class ReviewViewer3DTests : ComponentTestContext
{
    private sealed class WebRoot(IFileProvider files) : IWebHostEnvironment
    {
        public string WebRootPath { get; set; } = "";
        public IFileProvider WebRootFileProvider { get; set; } = files;
        public string ApplicationName { get; set; } = "medzoo";
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
        public string ContentRootPath { get; set; } = "";
        public string EnvironmentName { get; set; } = "Production";
    }

    private IRenderedComponent<ReviewViewer3D> Render(IFileProvider webRoot)
    {
        Context.Services.AddSingleton<IWebHostEnvironment>(new WebRoot(webRoot));
        return Context.Render<ReviewViewer3D>(p => p.Add(c => c.ViewerId, "viewer-1").Add(c => c.ReviewId, "review-1"));
    }

    [Fact]
    public void Toggle_BuildWithoutNiiVue_SaysSoAndLoadsNothing()
    {
        var cut = Render(new NullFileProvider());
        Assert.Empty(cut.FindAll("#rv3d-unavailable"));

        cut.Find("#rv3d input[type=checkbox]").Change(true);

        Assert.Equal("3D view unavailable: this build has no NiiVue (install npm and rebuild).", cut.Find("#rv3d-unavailable").TextContent.Trim());
        Assert.Empty(cut.FindAll("#rv3d-panels"));
        Assert.DoesNotContain(Context.JSInterop.Invocations, i => i.Identifier == "import");
    }

    [Fact]
    public void Toggle_BuildWithNiiVue_OpensThePanelOnTheViewerAndThePredictionDownload()
    {
        using var root = TestPaths.NewTempFolder();
        Directory.CreateDirectory(root.File("lib/niivue"));
        File.WriteAllText(root.File(ReviewViewer3D.NiiVuePath), "export {};");
        var module = Context.JSInterop.SetupModule("./js/review3d.js");
        module.Setup<string?>("open", _ => true).SetResult(null);
        using var files = new PhysicalFileProvider(root.Path);
        var cut = Render(files);
        Assert.DoesNotContain(Context.JSInterop.Invocations, i => i.Identifier == "import"); // lazy: nothing until switched on

        cut.Find("#rv3d input[type=checkbox]").Change(true);

        Assert.Empty(cut.FindAll("#rv3d-unavailable"));
        Assert.Single(cut.FindAll("#rv3d-panels"));
        var open = Assert.Single(module.Invocations["open"]);
        var config = open.Arguments[1]!;
        string Value(string name) => (string)config.GetType().GetProperty(name)!.GetValue(config)!;
        Assert.Equal("viewer-1", Value("viewerId"));
        Assert.Equal("/lib/niivue/niivue.js", Value("niivueUrl"));
        Assert.Equal("/api/reviews/review-1/prediction.nii.gz", Value("headerUrl"));

        module.SetupVoid("close", _ => true).SetVoidResult();
        cut.Find("#rv3d input[type=checkbox]").Change(false);
        Assert.Single(module.Invocations["close"]);
        Assert.Empty(cut.FindAll("#rv3d-panels"));
    }
}
