using Microsoft.Extensions.Options;

namespace MedZoo.Web.Accounts;

/// <summary>
/// Growing back-off after failed sign-ins, per account and per client address: the first
/// <see cref="AccountSecurityOptions.FreeFailures"/> failures cost nothing, then each one makes the
/// key wait <see cref="AccountSecurityOptions.FirstBackoff"/>, doubled per further failure up to
/// <see cref="AccountSecurityOptions.MaxBackoff"/>. A success clears the account's count (not the
/// address's: one good password must not reset a script's count against other accounts). Names that
/// do not exist are counted like real ones, so the answer never tells which names exist.
/// </summary>
public sealed class SignInBackoff(IOptions<AccountSecurityOptions> options, TimeProvider clock)
{
    /// <summary>Most keys remembered; beyond it the stalest are dropped (an attacker cycling names cannot grow memory without bound).</summary>
    public const int MaxTrackedKeys = 10_000;

    private sealed class Entry
    {
        public int Failures;
        public DateTimeOffset LastFailure;
        public DateTimeOffset BlockedUntil;
    }

    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>The key of an account (names are case-insensitive).</summary>
    public static string AccountKey(string? userName) => "user:" + (userName ?? "").Trim().ToLowerInvariant();

    /// <summary>The key of a client address.</summary>
    public static string AddressKey(string? address) => "addr:" + (address ?? "unknown");

    /// <summary>How long the longest-blocked of <paramref name="keys"/> must still wait; zero when none is blocked.</summary>
    public TimeSpan RetryAfter(params string[] keys)
    {
        var now = clock.GetUtcNow();
        var wait = TimeSpan.Zero;
        lock (_gate)
        {
            foreach (var key in keys)
                if (_entries.TryGetValue(key, out var e) && e.BlockedUntil > now && e.BlockedUntil - now > wait)
                    wait = e.BlockedUntil - now;
        }
        return wait;
    }

    /// <summary>Counts a failure against each key; returns the longest wait it now imposes.</summary>
    public TimeSpan RecordFailure(params string[] keys)
    {
        var o = options.Value;
        var now = clock.GetUtcNow();
        var wait = TimeSpan.Zero;
        lock (_gate)
        {
            foreach (var key in keys)
            {
                if (!_entries.TryGetValue(key, out var e) || now - e.LastFailure > o.FailureMemory)
                {
                    if (e is null && _entries.Count >= MaxTrackedKeys) Prune(now, o.FailureMemory);
                    e = _entries[key] = new Entry();
                }
                e.Failures++;
                e.LastFailure = now;
                var beyond = e.Failures - o.FreeFailures;
                if (beyond <= 0) continue;
                var delay = Delay(o, beyond);
                e.BlockedUntil = now + delay;
                if (delay > wait) wait = delay;
            }
        }
        return wait;
    }

    /// <summary>Forgets the failures of <paramref name="key"/> (after a successful sign-in to that account).</summary>
    public void RecordSuccess(string key)
    {
        lock (_gate) _entries.Remove(key);
    }

    /// <summary>The wait after the <paramref name="beyond"/>-th failure past the free ones: FirstBackoff·2^(beyond−1), at most MaxBackoff.</summary>
    public static TimeSpan Delay(AccountSecurityOptions o, int beyond)
    {
        var factor = Math.Pow(2, Math.Min(beyond - 1, 40));
        var ticks = o.FirstBackoff.Ticks * factor;
        return ticks >= o.MaxBackoff.Ticks ? o.MaxBackoff : TimeSpan.FromTicks((long)ticks);
    }

    private void Prune(DateTimeOffset now, TimeSpan memory)
    {
        foreach (var (key, e) in _entries.ToList())
            if (now - e.LastFailure > memory && e.BlockedUntil <= now) _entries.Remove(key);
        if (_entries.Count < MaxTrackedKeys) return;
        foreach (var (key, _) in _entries.OrderBy(kv => kv.Value.LastFailure).Take(_entries.Count / 2).ToList())
            _entries.Remove(key);
    }
}
