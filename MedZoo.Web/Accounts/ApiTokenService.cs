using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;

namespace MedZoo.Web.Accounts;

/// <summary>A token just created: <see cref="Secret"/> is shown to its owner once and never stored.</summary>
public sealed record CreatedApiToken(ApiToken Token, string Secret);

/// <summary>
/// Personal API tokens: each user creates and revokes their own on the API tokens page; a script sends one as
/// <c>Authorization: Bearer &lt;token&gt;</c> (<see cref="ApiTokenAuthenticationHandler"/>) and acts as that user
/// with the role the user has now.
/// <para>
/// A token is <see cref="Prefix"/> plus 32 random bytes (256 bits) in base64url. Only its SHA-256 is stored, with its
/// first 8 characters after the prefix as a hint (48 bits; the other 208 stay secret). A fast
/// unsalted hash is enough here, unlike for passwords: salts and slow hashes exist to stop guessing of low-entropy
/// secrets, and nobody can guess or precompute 2^208 values, so a stolen database yields no usable token. A fast
/// hash also lets a request be checked with one indexed lookup instead of a deliberate 100 ms of CPU, which would
/// hand anyone a cheap way to load the server. The lookup compares hashes, never the secret, so its timing tells an
/// attacker nothing about a valid token.
/// </para>
/// <para>
/// A token speaks for its user only while the user is as it was: it stores the account's security stamp, and each
/// use checks it with the same rule as the sign-in cookie (<see cref="UserService.HasCurrentStamp"/>). Deleting the
/// user or changing the password ends the token; a new role takes effect at the next request (the role is read from
/// the account each time, never from the token); revoking deletes it.
/// </para>
/// </summary>
public sealed class ApiTokenService(IApiTokenStore store, UserService users, TimeProvider clock)
{
    /// <summary>What every token starts with: lets secret scanners and people recognise a MedZoo token.</summary>
    public const string Prefix = "mzt_";

    /// <summary>Claim with the id of the token that authenticated the request (absent for cookie sessions).</summary>
    public const string TokenIdClaim = "medzoo:token";

    /// <summary>Most tokens one account may hold.</summary>
    public const int MaxTokensPerUser = 20;

    /// <summary>Longest token name.</summary>
    public const int MaxNameLength = 64;

    private const int SecretBytes = 32;
    private const int HintLength = 8;
    private static readonly TimeSpan UseRecordInterval = TimeSpan.FromMinutes(1);

    /// <summary>Creates a token for the signed-in <paramref name="user"/>; the secret is in the result only.</summary>
    /// <exception cref="ArgumentException">The name is too long, or the account already holds <see cref="MaxTokensPerUser"/> tokens.</exception>
    /// <exception cref="UnauthorizedAccessException">No account is signed in, or it no longer exists.</exception>
    public CreatedApiToken Create(ClaimsPrincipal user, string? name)
    {
        var account = Account(user, "create API tokens");
        var label = string.IsNullOrWhiteSpace(name) ? "token" : name.Trim();
        if (label.Length > MaxNameLength)
            throw new ArgumentException($"the token name has {label.Length} characters; use at most {MaxNameLength}", nameof(name));
        if (store.ListForUser(account.Id).Count >= MaxTokensPerUser)
            throw new ArgumentException($"you already have {MaxTokensPerUser} tokens; revoke one you no longer use first", nameof(name));
        var secret = Prefix + Base64Url(RandomNumberGenerator.GetBytes(SecretBytes));
        var token = new ApiToken(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)), account.Id, label, Hash(secret),
            secret[..(Prefix.Length + HintLength)], account.SecurityStamp ?? "", clock.GetUtcNow().UtcDateTime, null);
        store.Add(token);
        return new CreatedApiToken(token, secret);
    }

    /// <summary>The signed-in user's tokens, oldest first.</summary>
    public IReadOnlyList<ApiToken> List(ClaimsPrincipal user) => store.ListForUser(Account(user, "list API tokens").Id);

    /// <summary>Revokes one of the signed-in user's own tokens; false when they have no such token.</summary>
    public bool Revoke(ClaimsPrincipal user, string id) => store.Delete(Account(user, "revoke API tokens").Id, id);

    /// <summary>
    /// The principal a token speaks for (name, current role, security stamp, token id), or null when the token is
    /// malformed, unknown (revoked), or its user was deleted or changed password since it was created.
    /// </summary>
    public ClaimsPrincipal? Authenticate(string? secret)
    {
        if (!IsWellFormed(secret)) return null;
        var token = store.FindByHash(Hash(secret!));
        if (token is null) return null;
        var account = users.Find(token.UserId);
        if (account is null)
        {
            store.DeleteForUser(token.UserId); // the account is gone: its tokens are dead weight
            return null;
        }
        if (!string.Equals(token.Stamp, account.SecurityStamp ?? "", StringComparison.Ordinal)) return null;
        var now = clock.GetUtcNow().UtcDateTime;
        if (token.LastUsedAt is not { } last || now - last >= UseRecordInterval) store.RecordUse(token.Id, now);
        var principal = UserService.CreatePrincipal(account);
        var identity = new ClaimsIdentity(principal.Claims.Append(new Claim(TokenIdClaim, token.Id)),
            ApiTokenAuthenticationHandler.SchemeName, ClaimTypes.Name, ClaimTypes.Role);
        return new ClaimsPrincipal(identity);
    }

    /// <summary>
    /// For long-lived connections (hub): true unless <paramref name="principal"/> came from a token that has since
    /// been revoked. The account itself is checked by <see cref="UserService.IsCurrent"/>.
    /// </summary>
    public bool TokenStillExists(ClaimsPrincipal principal) =>
        principal.FindFirstValue(TokenIdClaim) is not { } id || store.Exists(id);

    /// <summary>Lower-case hex SHA-256 of the token's UTF-8 text: what the store keeps and looks up.</summary>
    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    // Cheap shape check before any lookup: the prefix and base64url characters of the right length.
    private static bool IsWellFormed(string? secret) =>
        secret is { Length: > 0 } s && s.StartsWith(Prefix, StringComparison.Ordinal) && s.Length == Prefix.Length + Base64UrlLength
        && s.AsSpan(Prefix.Length).IndexOfAnyExcept("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") < 0;

    private static readonly int Base64UrlLength = (SecretBytes * 8 + 5) / 6;

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private UserRecord Account(ClaimsPrincipal user, string action)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (user.Identity?.IsAuthenticated != true || user.Identity.Name is not { } name)
            throw new UnauthorizedAccessException($"sign in to {action}");
        return users.Find(name) ?? throw new UnauthorizedAccessException($"account '{name}' no longer exists; it cannot {action}");
    }
}
