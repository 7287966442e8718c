using System.Net;
using System.Text.Json;
using MedZoo.Tests.E2E;
using MedZoo.Tests.TestSupport;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Runs;
using Microsoft.Playwright;

namespace MedZoo.Tests.Cluster;

/// <summary>
/// A web node dies under a viewer (<c>scripts/cluster.sh</c>: two web nodes as processes behind HAProxy, a worker):
/// the viewer's page, pinned to that node, reconnects through the balancer to the other node, which does not know its
/// circuit, so the page loads again there, reads the run's history from PostgreSQL and goes live again; at the end it
/// holds every epoch the worker trained.
/// </summary>
public sealed class ClusterFailoverBrowserTests
{
    [SkippableFact]
    public async Task WebNodeKilledUnderAViewer_PageMovesToTheOtherNodeAndMissesNoEpoch()
    {
        Skip.IfNot(File.Exists("/usr/sbin/haproxy") || File.Exists("/usr/bin/haproxy"), "HAProxy is not installed (scripts/prereqs.sh installs it)");
        BrowserSession.RequireChromium();
        using var work = TestPaths.NewTempFolder();
        var dir = Path.Combine(work.Path, "cluster");
        var port = MedZoo.Reliability.Server.ListenPorts.Free();
        const string password = "failover-admin-pw-1";
        try
        {
            var (code, output) = await ClusterScriptTests.ScriptAsync(password, "start", dir, "--web", "2", "--workers", "1", "--port", port.ToString());
            Assert.True(code == 0, $"cluster.sh start exited {code}:\n{output}\n{ClusterScriptTests.Logs(dir)}");
            var address = new Uri($"http://127.0.0.1:{port}");

            // Epochs of about a second: the node dies mid-run with several epochs to go.
            var options = TrainerRunExecutor.Smoke();
            options.Device = "cpu";
            options.Epochs = 12;
            options.Threads = 1;
            options.Sampling.SamplesTrain = 48;
            var (client, _) = await SignIn.AsAsync(address, "admin", password);
            using var __ = client;
            using var started = await client.PostAsync("/api/runs",
                new StringContent($"{{\"name\":\"node dies under a viewer\",\"config\":{RunConfigJson.Serialize(options)}}}", System.Text.Encoding.UTF8, "application/json"));
            Assert.True(started.StatusCode == HttpStatusCode.Created, await started.Content.ReadAsStringAsync());
            var runId = JsonDocument.Parse(await started.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;

            await using var browser = await BrowserSession.LaunchAsync();
            var page = await browser.NewPageAsync(address);
            try
            {
                await BrowserSession.SignInAsync(page, "admin", password, $"/runs/{runId}");
                await BrowserSession.WaitAsync(page, "() => Number(document.querySelector('#chart-mean-dice')?.dataset.points) >= 2");
                var pinned = (await page.Context.CookiesAsync()).FirstOrDefault(c => c.Name == "MEDZOO_NODE")?.Value;
                Assert.True(pinned is "web-1" or "web-2", $"the page has no sticky cookie from the balancer (got '{pinned}')");
                await page.EvaluateAsync("() => window.__mzBeforeKill = true");

                var (killed, killOutput) = await ClusterScriptTests.ScriptAsync(password, "kill-web", dir, pinned![^1..]);
                Assert.True(killed == 0, killOutput);
                var atKill = await page.EvalOnSelectorAsync<int>("#chart-mean-dice", "e => Number(e.dataset.points)");

                // The page loaded again (the old document is gone) on the other node, and it is live there: its
                // charts grow without another load.
                await BrowserSession.WaitAsync(page, "() => window.__mzBeforeKill !== true && document.querySelector('#mz-interactive')?.dataset.ready === 'true'");
                var now = (await page.Context.CookiesAsync()).FirstOrDefault(c => c.Name == "MEDZOO_NODE")?.Value;
                Assert.True(now is not null && now != pinned, $"the page is still pinned to the dead node {pinned} (cookie '{now}')");
                await page.EvaluateAsync("() => window.__mzAfterKill = true");
                var reloaded = await page.EvalOnSelectorAsync<int>("#chart-mean-dice", "e => Number(e.dataset.points)");
                Assert.True(reloaded >= atKill, $"after moving the page shows {reloaded} points, fewer than the {atKill} it had");
                await page.WaitForSelectorAsync("[data-status=Completed]", new PageWaitForSelectorOptions { Timeout = 180_000 });
                Assert.True(await page.EvaluateAsync<bool>("() => window.__mzAfterKill === true"), "the page loaded a second time instead of staying live");
            }
            catch (Exception e) when (e is TimeoutException or PlaywrightException)
            {
                throw new TimeoutException($"{e.Message}\npage: {await BrowserSession.DescribeAsync(page)}\n{ClusterScriptTests.Logs(dir)}", e);
            }

            // What the page drew live on the second node is every epoch: a fresh load shows the same.
            var live = await page.EvalOnSelectorAsync<int>("#chart-mean-dice", "e => Number(e.dataset.points)");
            await page.ReloadAsync();
            await page.WaitForSelectorAsync("[data-status=Completed]");
            await BrowserSession.WaitAsync(page, "() => Number(document.querySelector('#chart-mean-dice')?.dataset.points) >= 1");
            Assert.Equal(await page.EvalOnSelectorAsync<int>("#chart-mean-dice", "e => Number(e.dataset.points)"), live);
            var run = JsonDocument.Parse(await client.GetStringAsync($"/api/runs/{runId}")).RootElement;
            Assert.Equal(options.Epochs, run.GetProperty("epochsCompleted").GetInt32());
        }
        finally
        {
            await ClusterScriptTests.ScriptAsync(password, "remove", dir);
        }
    }
}
