using System.Diagnostics;
using System.Net;
using System.Text.Json;
using MedZoo.Tests.TestSupport;
using MedZoo.Tests.Web.Support;

namespace MedZoo.Tests.Cluster;

/// <summary>
/// <c>scripts/cluster.sh</c>, as a user runs it: real PostgreSQL and Redis, two web nodes and a worker as separate
/// processes, HAProxy in front. A run started through the load balancer is trained by the worker; a signed-in user is
/// served by either node (one key ring in PostgreSQL); when the node a user is pinned to is killed, the next request is
/// served by the other; <c>stop</c> leaves no process behind.
/// </summary>
public sealed class ClusterScriptTests
{
    private static string Script => Path.Combine(TestPaths.RepositoryRoot, "scripts", "cluster.sh");

    [SkippableFact]
    public async Task Cluster_StartTrainKillAWebNodeStop_UsersStaySignedInAndNothingIsLeftRunning()
    {
        Skip.IfNot(File.Exists("/usr/sbin/haproxy") || File.Exists("/usr/bin/haproxy"), "HAProxy is not installed (scripts/prereqs.sh installs it)");
        using var work = TestPaths.NewTempFolder();
        var dir = Path.Combine(work.Path, "cluster");
        var port = MedZoo.Reliability.Server.ListenPorts.Free();
        const string password = "cluster-admin-pw-1";
        try
        {
            var (code, output) = await ScriptAsync(password, "start", dir, "--web", "2", "--workers", "1", "--port", port.ToString());
            Assert.True(code == 0, $"cluster.sh start exited {code}:\n{output}\n{Logs(dir)}");
            Assert.Contains($"open http://127.0.0.1:{port}", output);

            var address = new Uri($"http://127.0.0.1:{port}");
            var (client, cookies) = await SignIn.AsAsync(address, "admin", password);
            using var _ = client;

            // Without the balancer's sticky cookie, requests go round robin: both nodes read the sign-in cookie.
            for (var i = 0; i < 4; i++)
            {
                Unpin(cookies, address);
                using var list = await client.GetAsync("/api/runs");
                Assert.Equal(HttpStatusCode.OK, list.StatusCode);
            }

            using var started = await client.PostAsync("/api/runs",
                new StringContent($"{{\"name\":\"through the balancer\",\"config\":{ClusterNode.SmokeConfig("cpu", epochs: 1)}}}", System.Text.Encoding.UTF8, "application/json"));
            Assert.True(started.StatusCode == HttpStatusCode.Created, $"POST /api/runs answered {started.StatusCode}: {await started.Content.ReadAsStringAsync()}");
            var id = JsonDocument.Parse(await started.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
            await WaitForStatusAsync(client, id, "Completed", dir);

            // The user's pinned node dies: the balancer sends the next request to the other node, still signed in.
            var pinned = cookies.GetCookies(address)["MEDZOO_NODE"]?.Value;
            Assert.True(pinned is "web-1" or "web-2", $"no sticky cookie from the balancer (got '{pinned}')");
            var (killed, killOutput) = await ScriptAsync(password, "kill-web", dir, pinned![^1..]);
            Assert.True(killed == 0, killOutput);
            using var after = await client.GetAsync($"/api/runs/{id}");
            Assert.Equal(HttpStatusCode.OK, after.StatusCode);
            Assert.Contains("\"Completed\"", await after.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            var (stopped, stopOutput) = await ScriptAsync(password, "stop", dir);
            Assert.True(stopped == 0, stopOutput);
        }
        foreach (var pidFile in Directory.EnumerateFiles(dir, "*.pid"))
            Assert.Fail($"{Path.GetFileName(pidFile)} is left after stop");
        var (_, status) = await ScriptAsync(password, "status", dir);
        Assert.DoesNotContain("running", status);
        await ScriptAsync(password, "remove", dir);
        Assert.False(Directory.Exists(dir));
    }

    internal static void Unpin(CookieContainer cookies, Uri address)
    {
        foreach (Cookie c in cookies.GetCookies(address))
            if (c.Name == "MEDZOO_NODE") c.Expired = true;
    }

    private static async Task WaitForStatusAsync(HttpClient client, string id, string status, string dir)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(4);
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            last = await client.GetStringAsync($"/api/runs/{id}");
            if (JsonDocument.Parse(last).RootElement.GetProperty("status").ToString().Equals(status, StringComparison.OrdinalIgnoreCase)) return;
            await Task.Delay(250);
        }
        Assert.Fail($"run {id} did not reach {status}: {last}\n{Logs(dir)}");
    }

    internal static string Logs(string dir) =>
        !Directory.Exists(dir) ? "" : string.Join("\n", Directory.EnumerateFiles(dir, "*.log").Select(f =>
        {
            var lines = File.ReadAllLines(f);
            return $"--- {Path.GetFileName(f)} (last 15 lines)\n" + string.Join("\n", lines.TakeLast(15));
        }));

    internal static async Task<(int Code, string Output)> ScriptAsync(string password, params string[] args)
    {
        var info = new ProcessStartInfo("bash") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Script);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["MEDZOO_DLL"] = Path.Combine(AppContext.BaseDirectory, "medzoo.dll");
        info.Environment["MEDZOO_ADMIN_PASSWORD"] = password;
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await p.WaitForExitAsync(timeout.Token);
        return (p.ExitCode, await stdout + await stderr);
    }
}
