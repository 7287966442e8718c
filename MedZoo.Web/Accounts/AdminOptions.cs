namespace MedZoo.Web.Accounts;

/// <summary>
/// The first admin account (configuration section <c>MedZoo:Admin</c>, e.g. environment variables
/// <c>MedZoo__Admin__UserName</c> and <c>MedZoo__Admin__Password</c>). Used only while no account
/// exists; without it, the first visitor creates the admin on the setup page.
/// </summary>
public sealed class AdminOptions
{
    /// <summary>Configuration section the options bind from.</summary>
    public const string Section = "MedZoo:Admin";

    public string? UserName { get; set; }
    public string? Password { get; set; }

    /// <summary>True when both name and password are set.</summary>
    public bool IsConfigured => !string.IsNullOrWhiteSpace(UserName) && !string.IsNullOrEmpty(Password);
}
