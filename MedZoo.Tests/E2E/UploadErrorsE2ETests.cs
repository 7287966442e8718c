using MedZoo.Tests.Cluster;
using MedZoo.Tests.Web.Support;

namespace MedZoo.Tests.E2E;

/// <summary>
/// A refused upload in a real browser: the message leads with what to upload instead and names the
/// file once; what the reader found (header fields) is folded under "Details".
/// </summary>
public class UploadErrorsE2ETests : E2ETest
{
    [SkippableFact]
    public async Task Upload_TextFileNamedNii_LeadsWithWhatToUploadAndFoldsTheHeaderDetail()
    {
        BrowserSession.RequireChromium();
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = NewApp(folder.Path, new ScriptedRunExecutor());
        var address = app.Start();
        await using var browser = await BrowserSession.LaunchAsync();
        var page = await browser.NewPageAsync(address);
        await BrowserSession.SignInAsync(page, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword, "/reviews");

        var text = Path.Combine(folder.Path, "scan.nii");
        await File.WriteAllTextAsync(text, "hello, this is a text file and not a volume at all. " + new string('x', 400));
        await page.SetInputFilesAsync("#upload-images", text);
        await page.ClickAsync("#upload-submit:not([disabled])");
        await page.WaitForSelectorAsync("#upload-error");

        var message = (await page.InnerTextAsync("#upload-error-message")).Trim();
        Assert.StartsWith("scan.nii is not a NIfTI or Analyze file this page can read: expected a whole .nii or .nii.gz volume, or a .hdr header with its .img", message);
        Assert.DoesNotContain("sizeof_hdr", message);
        Assert.DoesNotContain("sizeof_hdr", await page.InnerTextAsync("#upload-error"));
        Assert.Equal(1, (await page.InnerTextAsync("#upload-error")).Split("scan.nii").Length - 1);

        // The detail is there for whoever wants it, one click away.
        var detail = page.Locator("#upload-error-details > div");
        Assert.False(await detail.IsVisibleAsync());
        await page.ClickAsync("#upload-error-details > summary");
        await detail.WaitForAsync();
        Assert.Contains("sizeof_hdr is 1819043176 (expected 348", await detail.InnerTextAsync());
    }
}

/// <summary>The same tests with the dashboard as a cluster web node whose runs a worker trains.</summary>
[Collection(ClusterHosts.Collection)]
public sealed class UploadErrorsE2ETests_Cluster(ClusterHosts cluster) : UploadErrorsE2ETests
{
    protected override IDashboardHosts Hosts => cluster;
}
