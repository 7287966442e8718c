using System.Net;
using System.Net.Sockets;
using System.Text;
using MedZoo.Engine.Training;
using MedZoo.Tests.Web.Persistence.Contracts;
using MedZoo.Web.Persistence;
using MedZoo.Web.Persistence.Postgres;
using MedZoo.Web.Runs;
using MedZoo.Web.Sweeps;
using Npgsql;

namespace MedZoo.Tests.Web.Persistence.Postgres;

/// <summary>
/// The network loses the server's answer to an insert that the server committed: a real PostgreSQL behind a TCP relay
/// that forwards the insert and then cuts the connection instead of passing the answer back. The store retries the
/// lost connection; before, the retry met its own row and the caller got "duplicate key" for a run that was saved.
/// </summary>
public sealed class LostAnswerTests_Cluster(PostgresServerFixture server) : IClassFixture<PostgresServerFixture>, IAsyncLifetime
{
    private PostgresStoreEngine _direct = null!;
    private CuttingRelay _relay = null!;
    private PostgresDatabase _viaRelay = null!;

    public async Task InitializeAsync()
    {
        _direct = await server.OpenAsync();
        var target = new NpgsqlConnectionStringBuilder(server.Servers.Postgres);
        _relay = new CuttingRelay(target.Host!, target.Port);
        var viaRelay = new NpgsqlConnectionStringBuilder(server.Servers.Postgres)
        {
            Host = "127.0.0.1", Port = _relay.Port, SearchPath = _direct.SearchPath, SslMode = SslMode.Disable,
        };
        _viaRelay = new PostgresDatabase(viaRelay.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        _viaRelay.Dispose();
        _relay.Dispose();
        await _direct.DisposeAsync();
    }

    private static RunRecord NewRun(string id) => new()
    {
        Id = id, Name = "run " + id, Status = RunStatus.Queued, Source = RunSource.Dashboard, CreatedBy = "ana",
        CreatedAt = new DateTime(2026, 12, 7, 3, 0, 0, DateTimeKind.Utc), Model = "unet3d", Dataset = "synthetic", Device = "cpu",
        ConfigJson = """{"epochs":3}""", Epochs = 3,
    };

    [Fact]
    public void SaveCheckpoint_ConnectionLostMidWriteOfAZip_IsSavedByTheRetry()
    {
        var store = new PostgresCheckpointStore(_viaRelay);
        var payload = new byte[6 << 20]; // two chunks
        new Random(7).NextBytes(payload);
        _relay.CutAfter("INSERT INTO checkpoint_chunks");

        // The trainer writes a zip: the lost connection surfaces in a chunk's insert, then the zip's dispose writes its
        // directory on the dead connection ("Connection is not open"), which hides the first exception. Before, that
        // was taken for a real error and the run failed.
        store.Save("r-ckpt", "last", 3, s =>
        {
            using var zip = new System.IO.Compression.ZipArchive(s, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true);
            using var entry = zip.CreateEntry("weights").Open();
            entry.Write(payload);
        });

        Assert.Equal(1, _relay.Cuts);
        var (stream, pointer) = _direct.Checkpoints.Open("r-ckpt", "last")!.Value;
        using (stream)
        {
            Assert.Equal(3, pointer.Epoch);
            using var zip = new System.IO.Compression.ZipArchive(stream, System.IO.Compression.ZipArchiveMode.Read);
            using var read = new MemoryStream();
            zip.GetEntry("weights")!.Open().CopyTo(read);
            Assert.Equal(payload, read.ToArray());
        }
    }

    [Fact]
    public void Insert_AnswerLostAfterTheCommit_SucceedsWithOneRow()
    {
        var runs = new PostgresRunStore(_viaRelay);
        _relay.CutAfter("INSERT INTO runs");

        runs.Insert(NewRun("r1"));

        Assert.Equal(1, _relay.Cuts); // the answer really was lost once, and the store retried
        Assert.Equal("run r1", _direct.Runs.Get("r1")!.Name);
        Assert.Single(_direct.Runs.List());
    }

    [Fact]
    public void Insert_AnotherRunWithATakenId_IsRefusedNamingTheId()
    {
        var runs = new PostgresRunStore(_viaRelay);
        runs.Insert(NewRun("r1"));
        var other = NewRun("r1");
        other.Name = "someone else's";

        var e = Assert.Throws<InvalidOperationException>(() => runs.Insert(other));
        Assert.Contains("'r1' already exists", e.Message);
        Assert.Equal("run r1", _direct.Runs.Get("r1")!.Name);
    }

    [Fact]
    public void SweepAndTokenInserts_AnswerLostAfterTheCommit_Succeed()
    {
        _relay.CutAfter("INSERT INTO sweeps");
        new PostgresSweepStore(_viaRelay).Insert(new SweepRecord { Id = "s1", Name = "lr", CreatedAt = DateTime.UtcNow });
        _relay.CutAfter("INSERT INTO api_tokens");
        new PostgresApiTokenStore(_viaRelay).Add(new MedZoo.Web.Accounts.ApiToken("t1", "ana", "ci", "h", "mz_", "stamp", DateTime.UtcNow, null));

        Assert.Equal(2, _relay.Cuts);
        Assert.Equal("lr", _direct.Sweeps.Get("s1")!.Name);
        Assert.NotNull(_direct.Tokens.FindByHash("h"));
    }

    /// <summary>
    /// Relays TCP to the server; once armed with a text, it forwards the client's bytes that contain it, then closes
    /// both sides when the server answers, so the client never reads the answer to a statement the server ran.
    /// </summary>
    private sealed class CuttingRelay : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly string _host;
        private readonly int _port;
        private readonly CancellationTokenSource _stop = new();
        private volatile string? _trigger;
        private int _cuts;

        public CuttingRelay(string host, int port)
        {
            (_host, _port) = (host, port);
            _listener.Start();
            _ = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public int Cuts => Volatile.Read(ref _cuts);

        public void CutAfter(string text) => _trigger = text;

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
                catch (Exception) { return; }
                _ = RelayAsync(client);
            }
        }

        private async Task RelayAsync(TcpClient client)
        {
            using var _ = client;
            using var upstream = new TcpClient();
            await upstream.ConnectAsync(_host, _port);
            var armed = new TaskCompletionSource();
            var up = PumpAsync(client.GetStream(), upstream.GetStream(), bytes =>
            {
                var trigger = _trigger;
                if (trigger is not null && Encoding.UTF8.GetString(bytes.Span).Contains(trigger, StringComparison.Ordinal))
                {
                    _trigger = null;
                    armed.TrySetResult();
                }
                return true;
            });
            var down = PumpAsync(upstream.GetStream(), client.GetStream(), _ =>
            {
                if (!armed.Task.IsCompleted) return true;
                Interlocked.Increment(ref _cuts);
                return false;
            });
            await Task.WhenAny(up, down);
        }

        // Copies until either side closes, or until pass says a chunk must not go through (then both sides close).
        private async Task PumpAsync(NetworkStream from, NetworkStream to, Func<ReadOnlyMemory<byte>, bool> pass)
        {
            var buffer = new byte[64 * 1024];
            try
            {
                while (true)
                {
                    var n = await from.ReadAsync(buffer, _stop.Token);
                    if (n == 0 || !pass(buffer.AsMemory(0, n))) return;
                    await to.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
                }
            }
            catch (Exception)
            {
                // a closed side ends the relay of this connection
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
        }
    }
}
