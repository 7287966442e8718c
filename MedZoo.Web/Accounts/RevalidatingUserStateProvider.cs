using System.Security.Claims;
using MedZoo.Web.Persistence;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;

namespace MedZoo.Web.Accounts;

/// <summary>
/// Re-checks a circuit's user against the account store every <see cref="RevalidationInterval"/>:
/// a circuit lives as long as the tab stays open, so without this a deleted user or a demoted
/// operator would keep the rights of their sign-in. When the account is gone or its role changed,
/// the circuit loses its authentication and the page reloads through the cookie (which picks up
/// the current role, see <see cref="AccountsExtensions"/>).
/// </summary>
internal sealed class RevalidatingUserStateProvider(ILoggerFactory loggerFactory, UserService users)
    : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    protected override TimeSpan RevalidationInterval => TimeSpan.FromSeconds(30);

    protected override Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken)
    {
        var principal = authenticationState.User;
        var name = principal.Identity?.Name;
        UserDocument? user;
        try
        {
            user = name is null ? null : users.Find(name);
        }
        catch (ObjectDisposedException)
        {
            // The host is shutting down and has closed the database under a circuit that is going away
            // with it: no verdict to give, and nothing worth an error in the log.
            return Task.FromResult(true);
        }
        return Task.FromResult(user is not null && principal.FindFirstValue(ClaimTypes.Role) == user.Role);
    }
}
