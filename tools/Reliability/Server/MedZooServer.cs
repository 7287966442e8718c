using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using MedZoo.Web.Live;
using MedZoo.Web.Runs;

namespace MedZoo.Reliability.Server;

/// <summary>
/// The real built <c>medzoo</c> as a child process on a free port, with a throw-away data folder and a configured
/// admin (MedZoo__Admin__UserName/Password): started, waited for, killed with SIGKILL, started again.
/// </summary>
public sealed partial class MedZooServer : IDisposable
{
    public const string AdminName = "admin";
    public const string AdminPassword = "reliability-admin-password";

    private readonly string _medzoo;
    private Process? _process;

    public MedZooServer(string medzooDll, string dataDirectory)
    {
        if (!File.Exists(medzooDll)) throw new ArgumentException($"--medzoo: {medzooDll} does not exist; build MedZoo.Web (dotnet build -c Release) first");
        _medzoo = medzooDll;
        DataDirectory = dataDirectory;
        Directory.CreateDirectory(dataDirectory);
        Port = ListenPorts.Free(); // kept across kill and restart: outside the ephemeral range, no client takes it meanwhile
        Address = new Uri($"http://127.0.0.1:{Port}/");
    }

    public string DataDirectory { get; }
    public int Port { get; }
    public Uri Address { get; }

    /// <summary>The server's process id (null when not running).</summary>
    public int? ProcessId => _process is { HasExited: false } p ? p.Id : null;

    /// <summary>JSON settings of the API's answers (enums as names, NaN allowed).</summary>
    public static JsonSerializerOptions Json { get; } = CreateJson();

    private static JsonSerializerOptions CreateJson()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        LiveJson.Configure(o);
        return o;
    }

    /// <summary>Starts the server and waits until it serves the sign-in page; returns how long that took.</summary>
    public async Task<TimeSpan> StartAsync(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(_medzoo);
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add(Address.ToString().TrimEnd('/'));
        info.Environment["MedZoo__DataDirectory"] = DataDirectory;
        info.Environment["MedZoo__Admin__UserName"] = AdminName;
        info.Environment["MedZoo__Admin__Password"] = AdminPassword;
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        var log = Path.Combine(DataDirectory, "..", $"server-{Port}.log");
        _process = ChildProcesses.Start(info);
        var writer = new StreamWriter(log, append: true) { AutoFlush = true };
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (writer) writer.WriteLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (writer) writer.WriteLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        using var probe = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(5) };
        while (clock.Elapsed < timeout)
        {
            if (_process.HasExited) throw new InvalidOperationException($"the server exited with code {_process.ExitCode} at start (log: {log})");
            try
            {
                using var r = await probe.GetAsync("/account/signin");
                if (r.StatusCode == HttpStatusCode.OK) return clock.Elapsed;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException($"the server did not serve /account/signin within {timeout.TotalSeconds:0} s (log: {log})");
    }

    /// <summary>SIGKILL: no shutdown code runs (what a power cut or the OOM killer does).</summary>
    public void Kill()
    {
        if (_process is null) return;
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        ChildProcesses.Forget(_process);
        _process.Dispose();
        _process = null;
    }

    /// <summary>A client with its own cookie jar, signed in as <paramref name="user"/>.</summary>
    public async Task<HttpClient> SignInAsync(string user = AdminName, string password = AdminPassword)
    {
        var client = NewClient();
        using var response = await PostSignInAsync(client, user, password);
        if (response.StatusCode != HttpStatusCode.Redirect || response.Headers.Location?.OriginalString != "/")
            throw new InvalidOperationException($"sign-in as {user} failed: {(int)response.StatusCode} -> {response.Headers.Location}");
        return client;
    }

    /// <summary>A client with its own cookie jar that does not follow redirects.</summary>
    public HttpClient NewClient() =>
        new(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>Posts the sign-in form (fetching its antiforgery token first).</summary>
    public static async Task<HttpResponseMessage> PostSignInAsync(HttpClient client, string user, string password)
    {
        var html = await client.GetStringAsync("/account/signin");
        var token = WebUtility.HtmlDecode(TokenPattern().Match(html).Groups[1].Value);
        return await client.PostAsync("/account/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["UserName"] = user, ["Password"] = password, ["ReturnUrl"] = "/", ["__RequestVerificationToken"] = token,
        }));
    }

    public static async Task<T> GetAsync<T>(HttpClient client, string path) =>
        (await client.GetFromJsonAsync<T>(path, Json)) ?? throw new InvalidOperationException($"GET {path} returned nothing");

    /// <summary>Every metric point of a run, read page by page as an API client would (the route is paged).</summary>
    public static async Task<List<MetricPointInfo>> MetricsAsync(HttpClient client, string runId)
    {
        var all = new List<MetricPointInfo>();
        long? after = 0;
        while (after is { } a)
        {
            var page = await GetAsync<MedZoo.Web.Runs.HistoryPage<MetricPointInfo>>(client, $"/api/runs/{Uri.EscapeDataString(runId)}/metrics?afterSeq={a}&limit=5000");
            all.AddRange(page.Items);
            after = page.Next;
        }
        return all;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();

    public void Dispose() => Kill();
}

/// <summary>The invariants every run must satisfy after a crash, checked through the HTTP API.</summary>
public static class RunInvariants
{
    /// <summary>Problems of one run (empty when sound): status, metric series, checkpoint.</summary>
    public static async Task<List<string>> CheckAsync(HttpClient client, RunInfo run, Func<byte[], string?> checkpointLoads)
    {
        var problems = new List<string>();
        if (run.Status is RunStatus.Running or RunStatus.Paused)
            problems.Add($"run {run.Id} is {run.Status} after the restart (nothing is training it)");
        var metrics = await MedZooServer.MetricsAsync(client, run.Id);
        var steps = metrics.Where(m => m.Kind == MetricKind.Step).Select(m => m.GlobalStep).ToList();
        var epochs = metrics.Where(m => m.Kind == MetricKind.Epoch).Select(m => m.Epoch).ToList();
        foreach (var (name, values) in new[] { ("step", steps), ("epoch", epochs.Select(e => (long)e).ToList()) })
        {
            var dup = values.GroupBy(v => v).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
            if (dup.Count > 0) problems.Add($"run {run.Id}: {name} points duplicated: {string.Join(", ", dup.Take(10))}");
            var max = values.Count == 0 ? 0 : values.Max();
            var missing = Enumerable.Range(1, (int)max).Select(v => (long)v).Except(values).ToList();
            if (missing.Count > 0) problems.Add($"run {run.Id}: {name} points missing below the last ({max}): {string.Join(", ", missing.Take(10))}");
        }
        using var download = await client.GetAsync($"/api/runs/{run.Id}/checkpoints/last");
        var lastEpoch = epochs.Count == 0 ? 0 : epochs.Max();
        if (download.StatusCode == HttpStatusCode.OK)
        {
            var bytes = await download.Content.ReadAsByteArrayAsync();
            if (checkpointLoads(bytes) is { } why) problems.Add($"run {run.Id}: the last checkpoint does not load: {why}");
            var name = download.Content.Headers.ContentDisposition?.FileNameStar ?? download.Content.Headers.ContentDisposition?.FileName ?? "";
            var m = Regex.Match(name, @"epoch(\d+)");
            if (m.Success && int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) < lastEpoch - 1)
                problems.Add($"run {run.Id}: its last checkpoint is epoch {m.Groups[1].Value} but epoch {lastEpoch} was recorded: a resume would lose more than the epoch in flight");
        }
        else if (lastEpoch > 1)
        {
            problems.Add($"run {run.Id}: {lastEpoch} epochs recorded but no last checkpoint ({(int)download.StatusCode})");
        }
        if (run.Status is RunStatus.Interrupted or RunStatus.Stopped or RunStatus.Failed && download.StatusCode != HttpStatusCode.OK && lastEpoch > 0)
            problems.Add($"run {run.Id} is {run.Status} with {lastEpoch} epochs but cannot be resumed (no checkpoint)");
        return problems;
    }
}
