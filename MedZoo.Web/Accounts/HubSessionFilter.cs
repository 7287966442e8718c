using Microsoft.AspNetCore.Authorization;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace MedZoo.Web.Accounts;

/// <summary>
/// Keeps hub connections honest about their user: a connection carries the principal it connected
/// with, so without this a deleted user, a demoted operator or a user whose password was reset would
/// keep receiving events and calling operator methods for as long as the socket stays open. Every
/// method call is checked against the account store first; every
/// <see cref="AccountSecurityOptions.RevalidationInterval"/> all open connections are checked, and
/// a connection whose user no longer matches (or whose API token was revoked) is closed (the client reconnects through the cookie,
/// which carries the current role, or is refused). It applies to the dashboard's own hubs only:
/// Blazor's circuit hub has its own check (<see cref="RevalidatingUserStateProvider"/>), which
/// sends the page through sign-in instead of cutting its connection.
/// </summary>
public sealed class HubSessionFilter : IHubFilter, IDisposable
{
    private readonly UserService _users;
    private readonly ApiTokenService _tokens;
    private readonly ILogger<HubSessionFilter> _logger;
    private readonly ConcurrentDictionary<string, HubCallerContext> _connections = new(StringComparer.Ordinal);
    private readonly ITimer _timer;

    public HubSessionFilter(UserService users, ApiTokenService tokens, IOptions<AccountSecurityOptions> options, TimeProvider clock, ILogger<HubSessionFilter> logger)
    {
        _users = users;
        _tokens = tokens;
        _logger = logger;
        var every = options.Value.RevalidationInterval;
        _timer = clock.CreateTimer(_ => RevalidateAll(), null, every, every);
    }

    /// <inheritdoc />
    public async Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        if (IsOwn(context.Hub)) _connections[context.Context.ConnectionId] = context.Context;
        await next(context);
    }

    /// <inheritdoc />
    public async Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        _connections.TryRemove(context.Context.ConnectionId, out _);
        await next(context, exception);
    }

    /// <inheritdoc />
    public ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        var caller = invocationContext.Context;
        if (IsOwn(invocationContext.Hub) && !IsCurrent(caller))
        {
            caller.Abort();
            throw new HubException("your account changed (removed, new role or new password) since this connection opened: reconnect to continue");
        }
        return next(invocationContext);
    }

    /// <summary>Checks every open connection now; closes those whose user changed. Returns how many it closed.</summary>
    public int RevalidateAll()
    {
        var closed = 0;
        foreach (var (id, caller) in _connections)
        {
            bool current;
            try
            {
                current = IsCurrent(caller);
            }
            catch (ObjectDisposedException)
            {
                return closed; // the host is shutting down and has closed the database
            }
            if (current) continue;
            _logger.LogInformation("Closing hub connection {ConnectionId} of '{UserName}': the account changed", id, caller.User?.Identity?.Name);
            _connections.TryRemove(id, out _);
            caller.Abort();
            closed++;
        }
        return closed;
    }

    // A hub marked [AllowAnonymous] serves no signed-in user (the cluster stream's in-process hub): nothing to revalidate.
    private static bool IsOwn(Hub hub) =>
        hub.GetType().Assembly == typeof(HubSessionFilter).Assembly && !hub.GetType().IsDefined(typeof(AllowAnonymousAttribute), inherit: false);

    // A connection opened with an API token also ends when the token is revoked.
    private bool IsCurrent(HubCallerContext caller) =>
        caller.User is { } user && UserService.IsCurrent(user, user.Identity?.Name is { } name ? _users.Find(name) : null)
        && _tokens.TokenStillExists(user);

    public void Dispose() => _timer.Dispose();
}
