using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.SignalR;

namespace MedZoo.Web.Cluster.Live;

/// <summary>
/// Connects a SignalR client (<c>HubConnection</c>) to a hub of this same process through a pair of in-memory pipes,
/// handed straight to the hub's <see cref="HubConnectionHandler{THub}"/>: the full SignalR protocol (handshake,
/// invocations, the hub lifetime manager and therefore the Redis backplane) without a socket, a URL or a sign-in.
/// The hub needs no endpoint at all, so nothing outside the process can connect to it.
/// </summary>
public sealed class InProcessHubConnectionFactory<THub>(HubConnectionHandler<THub> handler, ILogger<InProcessHubConnectionFactory<THub>> logger)
    : IConnectionFactory where THub : Hub
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Task> _open = new(StringComparer.Ordinal);

    /// <summary>
    /// Completes once the hub side of every connection has ended (its <c>OnDisconnectedAsync</c> ran): a host that stops
    /// waits for it, so the hub is not dispatched to after the host's services are disposed.
    /// </summary>
    public Task WhenClosedAsync() => Task.WhenAll(_open.Values);

    /// <inheritdoc />
    public ValueTask<ConnectionContext> ConnectAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var toServer = new Pipe();
        var toClient = new Pipe();
        var id = $"in-process-{Guid.NewGuid():N}";
        var server = new DefaultConnectionContext(id, new Duplex(toServer.Reader, toClient.Writer), new Duplex(toClient.Reader, toServer.Writer));
        var client = new ClientConnection(id, new Duplex(toClient.Reader, toServer.Writer));
        var hubSide = Task.Run(async () =>
        {
            try
            {
                await handler.OnConnectedAsync(server).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "The in-process connection {ConnectionId} to {Hub} failed", id, typeof(THub).Name);
            }
            finally
            {
                // The hub side ended: end the client's side too, so it notices and reconnects.
                await toClient.Writer.CompleteAsync().ConfigureAwait(false);
                await toServer.Reader.CompleteAsync().ConfigureAwait(false);
            }
        }, CancellationToken.None);
        _open[id] = hubSide;
        _ = hubSide.ContinueWith(_ => _open.TryRemove(id, out Task? _), TaskScheduler.Default);
        return ValueTask.FromResult<ConnectionContext>(client);
    }

    /// <summary>The address of an in-process hub (a client needs one; nothing resolves it).</summary>
    public sealed class Address : EndPoint
    {
        /// <inheritdoc />
        public override string ToString() => $"in-process:{typeof(THub).Name}";
    }

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }

    /// <summary>
    /// The client's end. It reports inherent keep-alive: the pipes cannot go silent the way a network can, and the
    /// hub side sends no pings without a transport heartbeat, so the client's server timeout must not apply.
    /// </summary>
    private sealed class ClientConnection : ConnectionContext, IConnectionInherentKeepAliveFeature
    {
        public ClientConnection(string id, IDuplexPipe transport)
        {
            ConnectionId = id;
            Transport = transport;
            Features.Set<IConnectionInherentKeepAliveFeature>(this);
        }

        public override string ConnectionId { get; set; }
        public override IFeatureCollection Features { get; } = new FeatureCollection();
        public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();
        public override IDuplexPipe Transport { get; set; }
        public bool HasInherentKeepAlive => true;

        public override async ValueTask DisposeAsync()
        {
            // Ends the hub side's read loop, which ends the connection there.
            await Transport.Output.CompleteAsync().ConfigureAwait(false);
            await Transport.Input.CompleteAsync().ConfigureAwait(false);
        }
    }
}
