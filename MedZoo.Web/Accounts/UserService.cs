using System.Security.Claims;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;

namespace MedZoo.Web.Accounts;

/// <summary>
/// Dashboard accounts (kept by an <see cref="IUserStore"/>); passwords hashed with ASP.NET Core's
/// <see cref="PasswordHasher{TUser}"/> (salted PBKDF2, upgraded on sign-in when the format changes).
/// The last admin can be neither demoted nor deleted, so the dashboard always has one. Hashing
/// (deliberately slow) happens outside the lock, so parallel sign-ins do not queue behind each other;
/// the lock guards only the reads and writes that must not interleave.
/// </summary>
public sealed partial class UserService(IUserStore store, IPasswordHasher<UserRecord> hasher, TimeProvider clock)
{
    /// <summary>Shortest accepted password.</summary>
    public const int MinPasswordLength = 8;

    /// <summary>Claim that carries the account's <see cref="UserRecord.SecurityStamp"/> in a session.</summary>
    public const string StampClaim = "medzoo:stamp";

    private readonly Lock _gate = new();

    /// <summary>True once any account exists (then the setup page is closed).</summary>
    public bool HasUsers => store.Any();

    /// <summary>Every account, by name.</summary>
    public IReadOnlyList<UserRecord> List() => store.List();

    /// <summary>The account, or null.</summary>
    public UserRecord? Find(string userName) => store.Find(Normalize(userName));

    /// <summary>Creates an account; throws <see cref="ArgumentException"/> naming what is wrong.</summary>
    public UserRecord Create(string userName, string password, string role) =>
        CreateCore(userName, password, role, firstAdmin: false)!;

    /// <summary>Creates the first admin, or returns null if an account already exists (the setup page closes after one use).</summary>
    public UserRecord? CreateFirstAdmin(string userName, string password) =>
        CreateCore(userName, password, Roles.Admin, firstAdmin: true);

    private UserRecord? CreateCore(string userName, string password, string role, bool firstAdmin)
    {
        ValidateName(userName);
        ValidatePassword(password);
        if (!Roles.IsValid(role)) throw new ArgumentException($"role '{role}' is not one of {string.Join(", ", Roles.All)}", nameof(role));
        var user = new UserRecord
        {
            Id = Normalize(userName), UserName = userName.Trim(), Role = role, CreatedAt = clock.GetUtcNow().UtcDateTime, SecurityStamp = NewStamp(),
        };
        user.PasswordHash = hasher.HashPassword(user, password);
        lock (_gate)
        {
            if (firstAdmin && HasUsers) return null;
            if (!store.Insert(user))
            {
                // Another process sharing the store (a second cluster web node starting at the same time) created it first.
                if (firstAdmin) return null;
                throw new ArgumentException($"user '{userName}' already exists", nameof(userName));
            }
            return user;
        }
    }

    /// <summary>Checks a password; returns the account on success (and records the sign-in), else null.</summary>
    public UserRecord? Verify(string? userName, string? password)
    {
        if (string.IsNullOrWhiteSpace(userName) || string.IsNullOrEmpty(password)) return null;
        var user = store.Find(Normalize(userName));
        if (user is null)
        {
            // Hash anyway so that a missing user takes as long as a wrong password.
            hasher.HashPassword(new UserRecord(), password);
            return null;
        }
        var result = hasher.VerifyHashedPassword(user, user.PasswordHash, password);
        if (result == PasswordVerificationResult.Failed) return null;
        var rehashed = result == PasswordVerificationResult.SuccessRehashNeeded ? hasher.HashPassword(user, password) : null;
        lock (_gate)
        {
            // Re-read: the password may have been changed (or the account deleted) while we hashed.
            var stored = store.Find(user.Id);
            if (stored is null || stored.PasswordHash != user.PasswordHash) return null;
            if (rehashed is not null) stored.PasswordHash = rehashed;
            stored.LastSignInAt = clock.GetUtcNow().UtcDateTime;
            store.Update(stored);
            return stored;
        }
    }

    /// <summary>Records a sign-in that did not go through <see cref="Verify"/> (setup signs the new admin in); returns the account.</summary>
    public UserRecord RecordSignIn(UserRecord user)
    {
        lock (_gate)
        {
            var stored = store.Find(user.Id) ?? throw new KeyNotFoundException($"user '{user.UserName}' does not exist");
            stored.LastSignInAt = clock.GetUtcNow().UtcDateTime;
            store.Update(stored);
            return stored;
        }
    }

    /// <summary>Changes an account's role; refuses to demote the last admin.</summary>
    public void SetRole(string userName, string role)
    {
        if (!Roles.IsValid(role)) throw new ArgumentException($"role '{role}' is not one of {string.Join(", ", Roles.All)}", nameof(role));
        lock (_gate)
        {
            var user = store.Find(Normalize(userName)) ?? throw new KeyNotFoundException($"user '{userName}' does not exist");
            if (user.Role == Roles.Admin && role != Roles.Admin && AdminCount() == 1)
                throw new InvalidOperationException($"'{user.UserName}' is the last admin; make another user admin first");
            user.Role = role;
            store.Update(user);
        }
    }

    /// <summary>Sets a new password and a new security stamp, which ends every session of the account.</summary>
    public void SetPassword(string userName, string password)
    {
        ValidatePassword(password);
        var hash = hasher.HashPassword(new UserRecord { UserName = userName }, password);
        lock (_gate)
        {
            var user = store.Find(Normalize(userName)) ?? throw new KeyNotFoundException($"user '{userName}' does not exist");
            user.PasswordHash = hash;
            user.SecurityStamp = NewStamp();
            store.Update(user);
        }
    }

    /// <summary>Deletes an account; refuses to delete the last admin.</summary>
    public bool Delete(string userName)
    {
        lock (_gate)
        {
            var user = store.Find(Normalize(userName));
            if (user is null) return false;
            if (user.Role == Roles.Admin && AdminCount() == 1)
                throw new InvalidOperationException($"'{user.UserName}' is the last admin and cannot be deleted");
            return store.Delete(user.Id);
        }
    }

    /// <summary>The cookie principal for an account: its name, role and security stamp.</summary>
    public static ClaimsPrincipal CreatePrincipal(UserRecord user)
    {
        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, user.UserName), new Claim(ClaimTypes.Role, user.Role), new Claim(StampClaim, user.SecurityStamp ?? "")],
            CookieAuthenticationDefaults.AuthenticationScheme, ClaimTypes.Name, ClaimTypes.Role);
        return new ClaimsPrincipal(identity);
    }

    /// <summary>True while the session's password generation is the account's (false once the account is gone or its password changed).</summary>
    public static bool HasCurrentStamp(ClaimsPrincipal principal, UserRecord? user) =>
        user is not null && string.Equals(principal.FindFirstValue(StampClaim) ?? "", user.SecurityStamp ?? "", StringComparison.Ordinal);

    /// <summary>True while a session still speaks for the account as stored: it exists, has the same password generation and the same role.</summary>
    public static bool IsCurrent(ClaimsPrincipal principal, UserRecord? user) =>
        HasCurrentStamp(principal, user) && principal.FindFirstValue(ClaimTypes.Role) == user!.Role;

    /// <summary>
    /// The message of an account error as users should read it: an <see cref="ArgumentException"/>'s
    /// message without the " (Parameter 'x')" that .NET appends.
    /// </summary>
    public static string MessageFor(Exception e)
    {
        var message = e.Message;
        if (e is ArgumentException { ParamName: { Length: > 0 } name })
        {
            var suffix = new ArgumentException("", name).Message; // " (Parameter 'name')" in the runtime's language
            if (suffix.Length > 0 && message.EndsWith(suffix, StringComparison.Ordinal)) message = message[..^suffix.Length];
        }
        return message;
    }

    private static string NewStamp() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    private int AdminCount() => store.CountInRole(Roles.Admin);

    private static string Normalize(string userName) => userName.Trim().ToLowerInvariant();

    private static void ValidateName(string userName)
    {
        if (string.IsNullOrWhiteSpace(userName) || !NamePattern().IsMatch(userName.Trim()))
            throw new ArgumentException("user name must be 1 to 64 letters, digits, '.', '_', '-' or '@'", nameof(userName));
    }

    private static void ValidatePassword(string password)
    {
        if (string.IsNullOrEmpty(password) || password.Length < MinPasswordLength)
            throw new ArgumentException($"password must have at least {MinPasswordLength} characters", nameof(password));
    }

    [GeneratedRegex(@"^[A-Za-z0-9._@-]{1,64}$")]
    private static partial Regex NamePattern();
}
