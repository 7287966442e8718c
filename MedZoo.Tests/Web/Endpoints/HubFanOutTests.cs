using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using MedZoo.Engine.Training;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Live;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Live;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace MedZoo.Tests.Web.Endpoints;

/// <summary>The real hub with a client that stops reading: the others keep receiving, and it is disconnected.</summary>
public sealed class HubFanOutTests
{
    private const string RunId = "watched";

    [Fact]
    public async Task Publish_ClientThatNeverReads_OthersGetEveryEpochAndItIsDisconnected()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor());
        app.Settings["MedZoo:Live:EventBacklog"] = "16";
        var address = app.Start();
        app.Repository().Insert(new RunRecord { Id = RunId, Name = RunId, Status = RunStatus.Running, CreatedAt = DateTime.UtcNow, CreatedBy = "tester" });
        var (_, cookies) = await SignIn.AsAsync(address, MedZooAppFactory.AdminName, MedZooAppFactory.AdminPassword);

        // Subscribed first, so the bridge posts to it before the others: its overflow is decided before they see an epoch.
        await using var stalled = await StalledClient.ConnectAsync(address, cookies);
        var healthy = new List<Watcher>();
        for (var i = 0; i < 3; i++) healthy.Add(await Watcher.ConnectAsync(address, cookies));

        var notifier = app.Services.GetRequiredService<RunNotifier>();
        var bridge = app.Services.GetRequiredService<HubBridge>();
        // About 350 kB of JSON each: far more than the socket buffers between the server and a client that does not read.
        var pixels = new byte[128 * 1024];
        for (var i = 0; i < 60; i++)
        {
            notifier.Publish(new SlicePreview
            {
                RunId = RunId, Epoch = 1, SubjectId = "s1", Plane = SlicePlane.Axial, SliceIndex = 0, SliceCount = 1, Width = 512, Height = 256,
                Image = pixels, Prediction = pixels,
            });
        }
        for (var e = 1; e <= 40; e++)
        {
            notifier.Publish(new EpochCompleted { RunId = RunId, Epoch = e, Epochs = 40, TrainLoss = 1, LearningRate = 0.1, Seconds = 1 });
            foreach (var w in healthy) Assert.True(await w.Signal.WaitAsync(Waits.Timeout), $"epoch {e} on a healthy client");
        }

        foreach (var w in healthy)
        {
            lock (w.Epochs) Assert.Equal(Enumerable.Range(1, 40), w.Epochs);
        }
        Assert.Equal(1, bridge.Disconnected);
        Assert.True(await stalled.ReadUntilClosedAsync().WaitAsync(Waits.Timeout), "the stalled client's connection was not closed");
        foreach (var w in healthy) await w.Hub.DisposeAsync();
    }

    private sealed record Watcher(HubConnection Hub, List<int> Epochs, SemaphoreSlim Signal)
    {
        public static async Task<Watcher> ConnectAsync(Uri address, CookieContainer cookies)
        {
            var hub = new HubConnectionBuilder()
                .WithUrl(new Uri(address, "hubs/training"), o => o.Cookies = cookies)
                .AddJsonProtocol(o => LiveJson.Configure(o.PayloadSerializerOptions))
                .Build();
            var w = new Watcher(hub, [], new SemaphoreSlim(0));
            hub.On<long, EpochCompleted>(nameof(ITrainingClient.EpochCompleted), (_, e) =>
            {
                lock (w.Epochs) w.Epochs.Add(e.Epoch);
                w.Signal.Release();
            });
            await hub.StartAsync();
            await hub.InvokeAsync<RunInfo>(nameof(TrainingHub.Subscribe), RunId);
            return w;
        }
    }

    /// <summary>
    /// A SignalR JSON-protocol client over a raw WebSocket with a small receive buffer: it subscribes,
    /// then never reads again (it keeps sending pings, so only its reading is stalled).
    /// </summary>
    private sealed class StalledClient : IAsyncDisposable
    {
        private const char Separator = '\u001e';
        private readonly ClientWebSocket _socket;
        private readonly CancellationTokenSource _stop = new();
        private Task _pings = Task.CompletedTask;

        private StalledClient(ClientWebSocket socket) => _socket = socket;

        public static async Task<StalledClient> ConnectAsync(Uri address, CookieContainer cookies)
        {
            var handler = new SocketsHttpHandler
            {
                CookieContainer = cookies,
                ConnectCallback = async (context, token) =>
                {
                    // Set before connecting, so the kernel does not grow the window: the server's sends back up quickly.
                    var s = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 4096 };
                    await s.ConnectAsync(context.DnsEndPoint, token);
                    return new NetworkStream(s, ownsSocket: true);
                },
            };
            var socket = new ClientWebSocket();
            var uri = new UriBuilder(new Uri(address, "hubs/training")) { Scheme = "ws" }.Uri;
            await socket.ConnectAsync(uri, new HttpMessageInvoker(handler), CancellationToken.None);
            var client = new StalledClient(socket);
            await client.SendAsync("{\"protocol\":\"json\",\"version\":1}");
            Assert.Equal("{}", await client.ReceiveMessageAsync());
            await client.SendAsync($"{{\"type\":1,\"invocationId\":\"1\",\"target\":\"Subscribe\",\"arguments\":[\"{RunId}\"]}}");
            while (true)
            {
                using var reply = JsonDocument.Parse(await client.ReceiveMessageAsync());
                if (reply.RootElement.GetProperty("type").GetInt32() != 3) continue; // pings
                Assert.False(reply.RootElement.TryGetProperty("error", out var error), $"Subscribe failed: {error}");
                client._pings = client.PingAsync(); // a send at a time: only once the handshake is done
                return client;
            }
        }

        /// <summary>Reads (and discards) until the server closes or aborts the connection; true when it did.</summary>
        public async Task<bool> ReadUntilClosedAsync()
        {
            var buffer = new byte[64 * 1024];
            try
            {
                while (true)
                {
                    var r = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                    if (r.MessageType == WebSocketMessageType.Close) return true;
                }
            }
            catch (WebSocketException)
            {
                return true;
            }
        }

        private Task SendAsync(string message) =>
            _socket.SendAsync(Encoding.UTF8.GetBytes(message + Separator), WebSocketMessageType.Text, true, CancellationToken.None);

        private readonly StringBuilder _received = new();

        private async Task<string> ReceiveMessageAsync()
        {
            var buffer = new byte[4096];
            while (true)
            {
                var text = _received.ToString();
                var end = text.IndexOf(Separator, StringComparison.Ordinal);
                if (end >= 0)
                {
                    _received.Remove(0, end + 1);
                    return text[..end];
                }
                var r = await _socket.ReceiveAsync(buffer, CancellationToken.None).WaitAsync(Waits.Timeout);
                if (r.MessageType == WebSocketMessageType.Close) throw new InvalidOperationException("the hub closed the connection during the handshake");
                _received.Append(Encoding.UTF8.GetString(buffer, 0, r.Count));
            }
        }

        private async Task PingAsync()
        {
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    await Task.Delay(TimeSpan.FromSeconds(5), _stop.Token);
                    await SendAsync("{\"type\":6}");
                }
            }
            catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException)
            {
                // Stopped, or the server closed the connection.
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _pings;
            _socket.Abort();
            _socket.Dispose();
            _stop.Dispose();
        }
    }
}
