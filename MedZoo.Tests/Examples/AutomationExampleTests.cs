using System.Diagnostics;
using MedZoo.Engine.IO;
using MedZoo.Tests.TestSupport;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Accounts;
using MedZoo.Web.Persistence;
using MedZoo.Web.Reviews;
using MedZoo.Web.Runs;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static MedZoo.Tests.Web.Support.AppTestHelpers;

namespace MedZoo.Tests.Examples;

/// <summary>
/// Runs the README's automation example (examples/automation.py) with Debian's python3 and requests against a real
/// server that trains with the real engine: a run on the synthetic dataset, a review, the prediction downloaded.
/// </summary>
public sealed class AutomationExampleTests(ITestOutputHelper output)
{
    private const string Python = "/usr/bin/python3";
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(5);

    [SkippableFact]
    public async Task Example_AgainstARealServer_TrainsReviewsAndDownloadsThePrediction()
    {
        Skip.IfNot(File.Exists(Python), $"{Python} is missing: install Debian's python3 and python3-requests (scripts/prereqs.sh does)");
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = new MedZooAppFactory(folder.Path, executor: null); // the real trainer
        var address = app.Start();
        app.Services.GetRequiredService<UserService>().Create("scripter", "scripter-password", Roles.Operator);
        var token = app.Services.GetRequiredService<ApiTokenService>().Create(Principal("scripter", Roles.Operator), "example").Secret;
        var prediction = Path.Combine(folder.Path, "downloaded-prediction.nii.gz");

        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(TestPaths.RepositoryRoot, "examples", "automation.py"));
        start.Environment["MEDZOO_URL"] = address.ToString();
        start.Environment["MEDZOO_TOKEN"] = token;
        start.Environment["MEDZOO_OUT"] = prediction;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(Limit);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"examples/automation.py did not finish in {Limit.TotalMinutes} min; it printed:\n{await stdout}\n{await stderr}");
        }
        output.WriteLine(await stdout);

        Assert.True(process.ExitCode == 0, $"examples/automation.py exited {process.ExitCode}:\n{await stdout}\n{await stderr}");
        Assert.Contains("prediction written to", await stdout);
        var run = Assert.Single(app.Repository().List());
        Assert.Equal(RunStatus.Completed, run.Status);
        Assert.Equal("scripter", run.CreatedBy);
        var review = Assert.Single(app.Services.GetRequiredService<ReviewRepository>().List());
        Assert.Equal(ReviewStatus.Completed, review.Status);
        var volume = VolumeIO.Read(prediction);
        Assert.Equal([24, 24, 24], volume.Shape);
    }
}
