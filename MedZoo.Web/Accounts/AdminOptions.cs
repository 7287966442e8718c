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

    /// <summary>Name of the first admin, created at start while no account exists (needs <see cref="Password"/> too).</summary>
    public string? UserName { get; set; }

    /// <summary>Password of the first admin (at least <see cref="UserService.MinPasswordLength"/> characters); used only while no account exists.</summary>
    public string? Password { get; set; }

    /// <summary>True when both name and password are set.</summary>
    public bool IsConfigured => !string.IsNullOrWhiteSpace(UserName) && !string.IsNullOrEmpty(Password);

    /// <summary>
    /// Throws when only one of the two is set: the server would otherwise ignore the one given and
    /// wait for the setup page, with no sign of why the configured admin does not exist.
    /// </summary>
    public void Validate()
    {
        var hasName = !string.IsNullOrWhiteSpace(UserName);
        var hasPassword = !string.IsNullOrEmpty(Password);
        if (hasName && !hasPassword)
            throw new InvalidOperationException($"{Section}:{nameof(Password)} is not set but {Section}:{nameof(UserName)} is: set both to create the first admin, or neither to create it on the setup page");
        if (hasPassword && !hasName)
            throw new InvalidOperationException($"{Section}:{nameof(UserName)} is not set but {Section}:{nameof(Password)} is: set both to create the first admin, or neither to create it on the setup page");
    }
}
