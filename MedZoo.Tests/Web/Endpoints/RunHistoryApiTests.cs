using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MedZoo.Tests.TestSupport;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Live;
using MedZoo.Web.Persistence;
using MedZoo.Web.Runs;
using Microsoft.Extensions.DependencyInjection;

namespace MedZoo.Tests.Web.Endpoints;

/// <summary>A server with one long stored run (12,345 steps, an epoch every 100, a log line every 5 steps), shared by the tests.</summary>
public sealed class LongRunServer : IAsyncLifetime
{
    public const int Steps = 12_345;

    private readonly TempFolder _folder = MedZooAppFactory.NewDataFolder();
    private MedZooAppFactory _app = null!;

    public HttpClient Client { get; private set; } = null!;
    public List<long> MetricSeqs { get; } = [];
    public List<long> EpochSeqs { get; } = [];
    public List<long> EventSeqs { get; } = [];

    public async Task InitializeAsync()
    {
        _app = new MedZooAppFactory(_folder.Path, new ScriptedRunExecutor());
        var address = _app.Start();
        _app.Repository().Insert(new RunRecord { Id = "long", Name = "long", Status = RunStatus.Completed, CreatedAt = DateTime.UtcNow, CreatedBy = "tester", StepsPerEpoch = 100 });
        var metrics = new List<MetricPointRecord>();
        var events = new List<RunEventRecord>();
        long seq = 0;
        for (var i = 1; i <= Steps; i++)
        {
            metrics.Add(new MetricPointRecord { RunId = "long", Seq = ++seq, Kind = MetricKind.Step, GlobalStep = i, Loss = i == 777 ? 40 : 1.0 / i });
            MetricSeqs.Add(seq);
            if (i % 100 == 0)
            {
                metrics.Add(new MetricPointRecord { RunId = "long", Seq = ++seq, Kind = MetricKind.Epoch, Epoch = i / 100, Loss = 1 });
                MetricSeqs.Add(seq);
                EpochSeqs.Add(seq);
            }
            if (i % 5 == 0)
            {
                events.Add(new RunEventRecord { RunId = "long", Seq = ++seq, Kind = "log", Message = $"line {events.Count + 1}" });
                EventSeqs.Add(seq);
            }
        }
        var db = _app.Services.GetRequiredService<MedZooDatabase>();
        db.Metrics.InsertBulk(metrics);
        db.Events.InsertBulk(events);
        (Client, _) = await SignIn.AsAsync(address, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword);
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await _app.DisposeAsync();
        _folder.Dispose();
    }
}

/// <summary>/api/runs/{id}/metrics and /events: pages with a hard maximum and a cursor, and a downsampled step series.</summary>
public sealed class RunHistoryApiTests(LongRunServer server) : IClassFixture<LongRunServer>
{
    private const int Steps = LongRunServer.Steps;
    private static readonly JsonSerializerOptions Json = JsonOptions();

    private readonly HttpClient _client = server.Client;
    private readonly List<long> _metricSeqs = server.MetricSeqs, _epochSeqs = server.EpochSeqs, _eventSeqs = server.EventSeqs;

    private static JsonSerializerOptions JsonOptions()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        LiveJson.Configure(o);
        return o;
    }

    private async Task<HistoryPage<T>> Get<T>(string path)
    {
        using var response = await _client.GetAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<HistoryPage<T>>(Json))!;
    }

    private async Task<List<T>> ReadAll<T>(string path, Func<T, long> seq, int limit, List<int> pageSizes)
    {
        var all = new List<T>();
        long? after = null;
        do
        {
            var sep = path.Contains('?') ? '&' : '?';
            var page = await Get<T>($"{path}{sep}limit={limit}{(after is { } a ? $"&afterSeq={a}" : "")}");
            pageSizes.Add(page.Items.Count);
            all.AddRange(page.Items);
            if (page.Next is { } next) Assert.Equal(seq(page.Items[^1]), next);
            after = page.Next;
        }
        while (after is not null);
        return all;
    }

    [Fact]
    public async Task Metrics_PagedToTheEnd_ReturnEveryPointExactlyOnceInOrder()
    {
        var sizes = new List<int>();
        var all = await ReadAll<MetricPointInfo>("/api/runs/long/metrics", m => m.Seq, RunRepository.MaxPageSize, sizes);
        Assert.Equal(_metricSeqs, all.Select(m => m.Seq));
        Assert.All(sizes, n => Assert.InRange(n, 1, RunRepository.MaxPageSize));
        Assert.Equal((_metricSeqs.Count + RunRepository.MaxPageSize - 1) / RunRepository.MaxPageSize, sizes.Count);
    }

    [Fact]
    public async Task Metrics_KindEpochInSmallPages_ReturnEveryEpochOnce()
    {
        var sizes = new List<int>();
        var all = await ReadAll<MetricPointInfo>("/api/runs/long/metrics?kind=epoch", m => m.Seq, 7, sizes);
        Assert.Equal(_epochSeqs, all.Select(m => m.Seq));
        Assert.All(all, m => Assert.Equal(MetricKind.Epoch, m.Kind));
        Assert.All(sizes, n => Assert.InRange(n, 1, 7));
    }

    [Fact]
    public async Task Metrics_NoParameters_ReturnTheFirstDefaultPageWithANextCursor()
    {
        var page = await Get<MetricPointInfo>("/api/runs/long/metrics");
        Assert.Equal(_metricSeqs.Take(RunEndpoints.DefaultPageSize), page.Items.Select(m => m.Seq));
        Assert.Equal(_metricSeqs[RunEndpoints.DefaultPageSize - 1], page.Next);
    }

    [Fact]
    public async Task Events_PagedToTheEnd_ReturnEveryLineExactlyOnceInOrder()
    {
        var sizes = new List<int>();
        var all = await ReadAll<RunEventInfo>("/api/runs/long/events", e => e.Seq, 999, sizes);
        Assert.Equal(_eventSeqs, all.Select(e => e.Seq));
        Assert.Equal([999, 999, _eventSeqs.Count - 2 * 999], sizes);
    }

    [Fact]
    public async Task Metrics_Points_ReturnAtMostThatManyStepPointsWithTheNewestExactAndTheSpike()
    {
        var page = await Get<MetricPointInfo>("/api/runs/long/metrics?points=400");
        Assert.Null(page.Next);
        Assert.InRange(page.Items.Count, 100, 400);
        Assert.All(page.Items, m => Assert.Equal(MetricKind.Step, m.Kind));
        Assert.Equal(Enumerable.Range(Steps - 99, 100).Select(i => (long)i), page.Items.TakeLast(100).Select(m => m.GlobalStep));
        Assert.Contains(page.Items, m => m.GlobalStep == 777 && m.Loss == 40);
        Assert.Equal(page.Items.Select(m => m.GlobalStep).Order(), page.Items.Select(m => m.GlobalStep));
    }

    [Theory]
    [InlineData("metrics?limit=5001", "limit is 5001; ask for 1 to 5000")]
    [InlineData("metrics?limit=0", "limit is 0; ask for 1 to 5000")]
    [InlineData("events?limit=100000", "limit is 100000; ask for 1 to 5000")]
    [InlineData("events?afterSeq=-1", "afterSeq is -1")]
    [InlineData("metrics?kind=loss", "kind 'loss' is not a metric kind; use step or epoch")]
    [InlineData("metrics?points=5001", "points is 5001; ask for 16 to 5000")]
    [InlineData("metrics?points=100&limit=10", "leave out afterSeq and limit")]
    [InlineData("metrics?points=100&kind=epoch", "leave out kind=epoch")]
    public async Task History_ParameterOutOfRange_IsRefusedWithTheReason(string query, string message)
    {
        using var response = await _client.GetAsync($"/api/runs/long/{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("metrics")]
    [InlineData("events")]
    [InlineData("metrics?points=100")]
    public async Task History_UnknownRun_IsNotFound(string query)
    {
        using var response = await _client.GetAsync($"/api/runs/missing/{query}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData("/api/runs/long", null, "id name status source createdBy createdAt startedAt finishedAt activeSeconds lastActivityAt sessionStartedAt model dataset device deviceUsed configJson epochs epochsCompleted currentEpoch stepsPerEpoch globalStep parameters classNames modalities bestMeanDice bestEpoch lastMeanDice lastTrainLoss lastValidationLoss reason resumeRequested sessions lastSeq processId host progress")]
    [InlineData("/api/runs/long/metrics?limit=1", "items", "runId seq kind epoch step globalStep loss learningRate dice validationLoss validation meanDice isBest seconds time")]
    [InlineData("/api/runs/long/events?limit=1", "items", "runId seq time kind level message")]
    public async Task Get_AnyRunResource_ReturnsTheContractsFieldsAndNoStorageIds(string path, string? list, string fields)
    {
        using var response = await _client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var item = list is null ? json.RootElement : json.RootElement.GetProperty(list)[0];
        Assert.Equal(fields.Split(' ').Order(StringComparer.Ordinal), item.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
    }
}
