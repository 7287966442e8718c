using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.Extensions.Options;

namespace MedZoo.Web.Accounts;

/// <summary>
/// Re-checks a circuit's user against the account store every
/// <see cref="AccountSecurityOptions.RevalidationInterval"/>: a circuit lives as long as the tab stays
/// open, so without this a deleted user, a demoted operator or a user whose password was reset would
/// keep the rights of their sign-in. When the account is gone, its password or its role changed, the
/// circuit loses its authentication and the page reloads through the cookie (which picks up the
/// current role or sends the user to sign in, see <see cref="AccountsExtensions"/>).
/// </summary>
internal sealed class RevalidatingUserStateProvider(ILoggerFactory loggerFactory, UserService users, IOptions<AccountSecurityOptions> options)
    : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    protected override TimeSpan RevalidationInterval => options.Value.RevalidationInterval;

    protected override Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken)
    {
        var principal = authenticationState.User;
        var name = principal.Identity?.Name;
        UserRecord? user;
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
        return Task.FromResult(UserService.IsCurrent(principal, user));
    }
}
