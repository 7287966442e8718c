namespace MedZoo.Web.Accounts;

/// <summary>
/// A personal API token as stored: never the token itself, only its SHA-256 (<see cref="Hash"/>), with what the
/// owner sees in the list (<see cref="Name"/>, <see cref="Hint"/>, dates).
/// </summary>
/// <param name="Id">Short random id (what revoking names).</param>
/// <param name="UserId">The owner's account id (the lower-cased user name).</param>
/// <param name="Name">The owner's label, e.g. "lab workstation".</param>
/// <param name="Hash">Lower-case hex SHA-256 of the token's UTF-8 text.</param>
/// <param name="Hint">The token's first characters, so that its owner can tell tokens apart.</param>
/// <param name="Stamp">The owner's security stamp when the token was created: a password change (new stamp) ends the token.</param>
/// <param name="CreatedAt">UTC creation time.</param>
/// <param name="LastUsedAt">UTC time of its last accepted use (recorded at most once a minute), or null.</param>
public sealed record ApiToken(string Id, string UserId, string Name, string Hash, string Hint, string Stamp, DateTime CreatedAt, DateTime? LastUsedAt);

/// <summary>
/// Where API tokens live. Shaped by what the token service asks (queries, not collections), so that the embedded
/// LiteDB store (<c>Persistence.LiteDbApiTokenStore</c>, registered with the other stores) and a server database can both back it.
/// </summary>
public interface IApiTokenStore
{
    /// <summary>Stores a new token.</summary>
    void Add(ApiToken token);

    /// <summary>The token whose hash is <paramref name="hash"/>, or null.</summary>
    ApiToken? FindByHash(string hash);

    /// <summary>True while the token <paramref name="id"/> exists (not revoked).</summary>
    bool Exists(string id);

    /// <summary>The tokens of one account, oldest first.</summary>
    IReadOnlyList<ApiToken> ListForUser(string userId);

    /// <summary>Removes one of <paramref name="userId"/>'s tokens; false when it has no such token.</summary>
    bool Delete(string userId, string id);

    /// <summary>Removes every token of an account; returns how many.</summary>
    int DeleteForUser(string userId);

    /// <summary>Records that the token was used at <paramref name="at"/>.</summary>
    void RecordUse(string id, DateTime at);
}
