using System.Security.Claims;
using System.Text.RegularExpressions;
using MedZoo.Web.Persistence;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;

namespace MedZoo.Web.Accounts;

/// <summary>
/// Dashboard accounts stored in LiteDB; passwords hashed with ASP.NET Core's
/// <see cref="PasswordHasher{TUser}"/> (salted PBKDF2, upgraded on sign-in when the format changes).
/// The last admin can be neither demoted nor deleted, so the dashboard always has one.
/// </summary>
public sealed partial class UserService(MedZooDatabase database, IPasswordHasher<UserDocument> hasher, TimeProvider clock)
{
    /// <summary>Shortest accepted password.</summary>
    public const int MinPasswordLength = 8;

    private readonly Lock _gate = new();

    /// <summary>True once any account exists (then the setup page is closed).</summary>
    public bool HasUsers => database.Users.Count() > 0;

    /// <summary>Every account, by name.</summary>
    public IReadOnlyList<UserDocument> List() => database.Users.FindAll().OrderBy(u => u.Id).ToList();

    /// <summary>The account, or null.</summary>
    public UserDocument? Find(string userName) => database.Users.FindById(Normalize(userName));

    /// <summary>Creates an account; throws <see cref="ArgumentException"/> naming what is wrong.</summary>
    public UserDocument Create(string userName, string password, string role)
    {
        lock (_gate) return CreateLocked(userName, password, role);
    }

    /// <summary>Creates the first admin, or returns null if an account already exists (the setup page closes after one use).</summary>
    public UserDocument? CreateFirstAdmin(string userName, string password)
    {
        lock (_gate) return HasUsers ? null : CreateLocked(userName, password, Roles.Admin);
    }

    private UserDocument CreateLocked(string userName, string password, string role)
    {
        ValidateName(userName);
        ValidatePassword(password);
        if (!Roles.IsValid(role)) throw new ArgumentException($"role '{role}' is not one of {string.Join(", ", Roles.All)}", nameof(role));
        var id = Normalize(userName);
        if (database.Users.FindById(id) is not null) throw new ArgumentException($"user '{userName}' already exists", nameof(userName));
        var user = new UserDocument { Id = id, UserName = userName.Trim(), Role = role, CreatedAt = clock.GetUtcNow().UtcDateTime };
        user.PasswordHash = hasher.HashPassword(user, password);
        database.Users.Insert(user);
        return user;
    }

    /// <summary>Checks a password; returns the account on success (and records the sign-in), else null.</summary>
    public UserDocument? Verify(string? userName, string? password)
    {
        if (string.IsNullOrWhiteSpace(userName) || string.IsNullOrEmpty(password)) return null;
        lock (_gate)
        {
            var user = database.Users.FindById(Normalize(userName));
            if (user is null)
            {
                // Hash anyway so that a missing user takes as long as a wrong password.
                hasher.HashPassword(new UserDocument(), password);
                return null;
            }
            var result = hasher.VerifyHashedPassword(user, user.PasswordHash, password);
            if (result == PasswordVerificationResult.Failed) return null;
            if (result == PasswordVerificationResult.SuccessRehashNeeded) user.PasswordHash = hasher.HashPassword(user, password);
            user.LastSignInAt = clock.GetUtcNow().UtcDateTime;
            database.Users.Update(user);
            return user;
        }
    }

    /// <summary>Changes an account's role; refuses to demote the last admin.</summary>
    public void SetRole(string userName, string role)
    {
        if (!Roles.IsValid(role)) throw new ArgumentException($"role '{role}' is not one of {string.Join(", ", Roles.All)}", nameof(role));
        lock (_gate)
        {
            var user = database.Users.FindById(Normalize(userName)) ?? throw new KeyNotFoundException($"user '{userName}' does not exist");
            if (user.Role == Roles.Admin && role != Roles.Admin && AdminCount() == 1)
                throw new InvalidOperationException($"'{user.UserName}' is the last admin; make another user admin first");
            user.Role = role;
            database.Users.Update(user);
        }
    }

    /// <summary>Sets a new password.</summary>
    public void SetPassword(string userName, string password)
    {
        ValidatePassword(password);
        lock (_gate)
        {
            var user = database.Users.FindById(Normalize(userName)) ?? throw new KeyNotFoundException($"user '{userName}' does not exist");
            user.PasswordHash = hasher.HashPassword(user, password);
            database.Users.Update(user);
        }
    }

    /// <summary>Deletes an account; refuses to delete the last admin.</summary>
    public bool Delete(string userName)
    {
        lock (_gate)
        {
            var user = database.Users.FindById(Normalize(userName));
            if (user is null) return false;
            if (user.Role == Roles.Admin && AdminCount() == 1)
                throw new InvalidOperationException($"'{user.UserName}' is the last admin and cannot be deleted");
            return database.Users.Delete(user.Id);
        }
    }

    /// <summary>The cookie principal for an account: its name and role.</summary>
    public static ClaimsPrincipal CreatePrincipal(UserDocument user)
    {
        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, user.UserName), new Claim(ClaimTypes.Role, user.Role)],
            CookieAuthenticationDefaults.AuthenticationScheme, ClaimTypes.Name, ClaimTypes.Role);
        return new ClaimsPrincipal(identity);
    }

    private int AdminCount() => database.Users.Count(u => u.Role == Roles.Admin);

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
