namespace MedZoo.Web.Accounts;

/// <summary>
/// Limits on sign-in and setup posts and how often open sessions are re-checked against the
/// account store (configuration section <c>MedZoo:Accounts</c>, e.g. <c>MedZoo__Accounts__FreeFailures</c>).
/// </summary>
public sealed class AccountSecurityOptions
{
    /// <summary>Configuration section the options bind from.</summary>
    public const string Section = "MedZoo:Accounts";

    /// <summary>
    /// Sign-in and setup posts one client address may make per minute; more get 429. Default 30
    /// (a person mistyping never reaches it; a password-guessing script does at once).
    /// </summary>
    public int PostsPerMinutePerAddress { get; set; } = 30;

    /// <summary>Failed sign-ins an account (or a client address) may have before it has to wait; default 5.</summary>
    public int FreeFailures { get; set; } = 5;

    /// <summary>Wait after the first failure beyond <see cref="FreeFailures"/>; each further failure doubles it. Default 1 s.</summary>
    public TimeSpan FirstBackoff { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest wait the doubling reaches; default 15 minutes.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Failures are forgotten after this long without a new one; default 1 hour.</summary>
    public TimeSpan FailureMemory { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How often open dashboard circuits and hub connections re-check their user (deleted, role
    /// changed, password changed); default 30 s. Cookies are re-checked on every request.
    /// </summary>
    public TimeSpan RevalidationInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (PostsPerMinutePerAddress < 1)
            throw new ArgumentException($"{Section}:{nameof(PostsPerMinutePerAddress)} must be at least 1, got {PostsPerMinutePerAddress}");
        if (FreeFailures < 0) throw new ArgumentException($"{Section}:{nameof(FreeFailures)} must not be negative, got {FreeFailures}");
        if (FirstBackoff <= TimeSpan.Zero) throw new ArgumentException($"{Section}:{nameof(FirstBackoff)} must be positive, got {FirstBackoff}");
        if (MaxBackoff < FirstBackoff)
            throw new ArgumentException($"{Section}:{nameof(MaxBackoff)} ({MaxBackoff}) must be at least {nameof(FirstBackoff)} ({FirstBackoff})");
        if (FailureMemory < MaxBackoff)
            throw new ArgumentException($"{Section}:{nameof(FailureMemory)} ({FailureMemory}) must be at least {nameof(MaxBackoff)} ({MaxBackoff})");
        if (RevalidationInterval <= TimeSpan.Zero || RevalidationInterval > TimeSpan.FromMinutes(1))
            throw new ArgumentException($"{Section}:{nameof(RevalidationInterval)} must be more than 0 and at most 1 minute, got {RevalidationInterval}");
    }
}
