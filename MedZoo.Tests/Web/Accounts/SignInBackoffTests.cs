using MedZoo.Web.Accounts;
using Microsoft.Extensions.Options;

namespace MedZoo.Tests.Web.Accounts;

public sealed class SignInBackoffTests
{
    /// <summary>A clock that moves only when told.</summary>
    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static readonly AccountSecurityOptions Limits = new()
    {
        FreeFailures = 2, FirstBackoff = TimeSpan.FromSeconds(1), MaxBackoff = TimeSpan.FromSeconds(10), FailureMemory = TimeSpan.FromHours(1),
    };

    private static (SignInBackoff Backoff, ManualClock Clock) Create()
    {
        var clock = new ManualClock();
        return (new SignInBackoff(Options.Create(Limits), clock), clock);
    }

    [Fact]
    public void RecordFailure_BeyondTheFreeOnes_WaitDoublesUpToTheMaximum()
    {
        var (backoff, _) = Create();
        var key = SignInBackoff.AccountKey("alice");
        var waits = Enumerable.Range(0, 8).Select(_ => backoff.RecordFailure(key).TotalSeconds).ToList();
        Assert.Equal([0, 0, 1, 2, 4, 8, 10, 10], waits);
        Assert.Equal(TimeSpan.FromSeconds(10), backoff.RetryAfter(key));
    }

    [Fact]
    public void RetryAfter_WaitOver_IsZeroAndOtherKeysWereNeverBlocked()
    {
        var (backoff, clock) = Create();
        var alice = SignInBackoff.AccountKey("Alice ");
        for (var i = 0; i < 4; i++) backoff.RecordFailure(alice);
        Assert.Equal(TimeSpan.FromSeconds(2), backoff.RetryAfter(SignInBackoff.AccountKey("alice"))); // names are case-insensitive
        Assert.Equal(TimeSpan.Zero, backoff.RetryAfter(SignInBackoff.AccountKey("bob")));
        clock.Now += TimeSpan.FromSeconds(2);
        Assert.Equal(TimeSpan.Zero, backoff.RetryAfter(alice));
    }

    [Fact]
    public void RecordSuccess_ClearsTheAccountButNotTheAddress()
    {
        var (backoff, _) = Create();
        var account = SignInBackoff.AccountKey("alice");
        var address = SignInBackoff.AddressKey("10.0.0.7");
        for (var i = 0; i < 3; i++) backoff.RecordFailure(account, address);
        backoff.RecordSuccess(account);
        Assert.Equal(TimeSpan.Zero, backoff.RetryAfter(account));
        Assert.Equal(TimeSpan.FromSeconds(1), backoff.RetryAfter(address));
        Assert.Equal(TimeSpan.Zero, backoff.RecordFailure(account)); // the account starts again from its free failures
    }

    [Fact]
    public void RecordFailure_AfterTheMemoryLapsed_StartsAgain()
    {
        var (backoff, clock) = Create();
        var key = SignInBackoff.AccountKey("alice");
        for (var i = 0; i < 5; i++) backoff.RecordFailure(key);
        clock.Now += TimeSpan.FromHours(2);
        Assert.Equal(TimeSpan.Zero, backoff.RecordFailure(key));
    }

    [Fact]
    public void RecordFailure_ManyDistinctNames_KeepsMemoryBounded()
    {
        var (backoff, clock) = Create();
        for (var i = 0; i < SignInBackoff.MaxTrackedKeys + 10; i++)
        {
            backoff.RecordFailure(SignInBackoff.AccountKey("name" + i));
            clock.Now += TimeSpan.FromMilliseconds(1);
        }
        var newest = SignInBackoff.AccountKey("name" + (SignInBackoff.MaxTrackedKeys + 9));
        for (var i = 0; i < 2; i++) backoff.RecordFailure(newest);
        Assert.True(backoff.RetryAfter(newest) > TimeSpan.Zero, "the newest key must still be tracked after pruning");
    }

    [Theory]
    [InlineData(0, 1, 1, 1, 1, "PostsPerMinutePerAddress")]
    [InlineData(30, -1, 1, 1, 1, "FreeFailures")]
    [InlineData(30, 5, 0, 1, 1, "FirstBackoff")]
    [InlineData(30, 5, 10, 5, 60, "MaxBackoff")]
    [InlineData(30, 5, 1, 60, 30, "FailureMemory")]
    public void Validate_BadSetting_NamesIt(int posts, int free, int firstSeconds, int maxSeconds, int memorySeconds, string expected)
    {
        var o = new AccountSecurityOptions
        {
            PostsPerMinutePerAddress = posts, FreeFailures = free, FirstBackoff = TimeSpan.FromSeconds(firstSeconds),
            MaxBackoff = TimeSpan.FromSeconds(maxSeconds), FailureMemory = TimeSpan.FromSeconds(memorySeconds),
        };
        Assert.Contains(expected, Assert.Throws<ArgumentException>(o.Validate).Message);
    }

    [Fact]
    public void Validate_RevalidationIntervalOverAMinute_IsRefused()
    {
        var o = new AccountSecurityOptions { RevalidationInterval = TimeSpan.FromMinutes(5) };
        Assert.Contains("RevalidationInterval", Assert.Throws<ArgumentException>(o.Validate).Message);
        new AccountSecurityOptions().Validate();
    }
}
