using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace MedZoo.Reliability.Server;

/// <summary>What an attack on sign-in did: the answers the attackers got, and a signed-in user's latency meanwhile.</summary>
public sealed record AttackResult(
    int Clients, TimeSpan Duration, IReadOnlyDictionary<string, int> AttackAnswers, long AttackRequests,
    IReadOnlyList<double> UserLatenciesMs, IReadOnlyList<double> QuietLatenciesMs, int UserErrors)
{
    public static double Percentile(IReadOnlyList<double> values, double p)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}

/// <summary>
/// Password guessing against the real server: <c>clients</c> parallel clients, each with its own cookie jar and
/// antiforgery token (as a browser-driving script would), post the sign-in form with wrong passwords for the given
/// time, while one signed-in user polls <c>GET /api/runs</c> one request after another. The user's latencies are also
/// measured for a few seconds before the attack (the quiet baseline).
/// </summary>
public static class Attack
{
    public static async Task<AttackResult> RunAsync(string medzoo, string work, int clients, TimeSpan duration, Action<string> progress)
    {
        using var server = new MedZooServer(medzoo, Path.Combine(work, "attack-data"));
        await server.StartAsync(TimeSpan.FromMinutes(2));
        using var user = await server.SignInAsync();
        var quiet = await PollAsync(user, TimeSpan.FromSeconds(5), CancellationToken.None);
        progress($"quiet: p50 {AttackResult.Percentile(quiet.Latencies, 0.5):0} ms, p99 {AttackResult.Percentile(quiet.Latencies, 0.99):0} ms");

        var answers = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        long requests = 0;
        using var stop = new CancellationTokenSource(duration);
        var attackers = Enumerable.Range(0, clients).Select(i => Task.Run(async () =>
        {
            using var client = server.NewClient();
            while (!stop.IsCancellationRequested)
            {
                string answer;
                try
                {
                    using var r = await MedZooServer.PostSignInAsync(client, MedZooServer.AdminName, $"wrong-{i}-{Interlocked.Increment(ref requests)}");
                    answer = r.StatusCode == HttpStatusCode.Redirect
                        ? $"302 -> {r.Headers.Location?.OriginalString.Split('&')[0]}"
                        : $"{(int)r.StatusCode} {r.StatusCode}";
                }
                catch (HttpRequestException e)
                {
                    answer = $"connection error: {e.Message}";
                }
                catch (TaskCanceledException)
                {
                    answer = "client timeout (60 s)";
                }
                answers.AddOrUpdate(answer, 1, (_, n) => n + 1);
            }
        })).ToList();
        var during = await PollAsync(user, duration, CancellationToken.None);
        await Task.WhenAll(attackers);
        return new AttackResult(clients, duration, answers, requests, during.Latencies, quiet.Latencies, during.Errors);
    }

    private static async Task<(List<double> Latencies, int Errors)> PollAsync(HttpClient user, TimeSpan duration, CancellationToken cancellation)
    {
        var latencies = new List<double>();
        var errors = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration && !cancellation.IsCancellationRequested)
        {
            var one = Stopwatch.StartNew();
            try
            {
                using var r = await user.GetAsync("/api/runs", cancellation);
                if (r.StatusCode != HttpStatusCode.OK) errors++;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                errors++;
            }
            latencies.Add(one.Elapsed.TotalMilliseconds);
        }
        return (latencies, errors);
    }
}
