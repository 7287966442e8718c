namespace MedZoo.Web.Accounts;

/// <summary>A dashboard account.</summary>
public sealed class UserRecord
{
    /// <summary>User name, lower-cased (names are case-insensitive).</summary>
    public string Id { get; set; } = "";
    /// <summary>User name as typed when created.</summary>
    public string UserName { get; set; } = "";
    /// <summary>ASP.NET Core PasswordHasher output (PBKDF2, salted).</summary>
    public string PasswordHash { get; set; } = "";
    public string Role { get; set; } = "";
    public DateTime CreatedAt { get; set; }
    public DateTime? LastSignInAt { get; set; }
    /// <summary>Changes whenever the password changes: sessions signed in with another stamp end (see UserService.IsCurrent).</summary>
    public string SecurityStamp { get; set; } = "";
}
