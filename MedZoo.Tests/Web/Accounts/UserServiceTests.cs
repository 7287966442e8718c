using MedZoo.Tests.Web.Support;
using MedZoo.Web.Accounts;
using Microsoft.AspNetCore.Identity;

namespace MedZoo.Tests.Web.Accounts;

public sealed class UserServiceTests
{
    private static UserService Users(StoreFixture f) => new(f.Users, new PasswordHasher<UserRecord>(), TimeProvider.System);

    [Fact]
    public async Task Verify_RightAndWrongPasswords_OnlyRightOneSucceedsAndHashIsNotThePassword()
    {
        await using var f = new StoreFixture();
        var users = Users(f);
        users.Create("Alice", "correct-horse", Roles.Operator);
        Assert.NotNull(users.Verify("alice", "correct-horse")); // names are case-insensitive
        Assert.Null(users.Verify("alice", "wrong-horse"));
        Assert.Null(users.Verify("bob", "correct-horse"));
        var stored = f.Database.Users.FindById("alice");
        Assert.DoesNotContain("correct-horse", stored.PasswordHash);
        Assert.NotNull(stored.LastSignInAt);
    }

    [Theory]
    [InlineData("", "long-enough-pw", "user name")]
    [InlineData("has space", "long-enough-pw", "user name")]
    [InlineData("bob", "short", "at least 8")]
    public async Task Create_Invalid_ThrowsNamingTheProblem(string name, string password, string expected)
    {
        await using var f = new StoreFixture();
        var e = Assert.Throws<ArgumentException>(() => Users(f).Create(name, password, Roles.Viewer));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public async Task Create_Duplicate_Throws()
    {
        await using var f = new StoreFixture();
        var users = Users(f);
        users.Create("bob", "password-1", Roles.Viewer);
        Assert.Throws<ArgumentException>(() => users.Create("BOB", "password-2", Roles.Viewer));
        Assert.Throws<ArgumentException>(() => users.Create("carol", "password-2", "superuser"));
    }

    [Fact]
    public async Task SetRoleAndDelete_LastAdmin_AreRefused()
    {
        await using var f = new StoreFixture();
        var users = Users(f);
        users.Create("root", "password-1", Roles.Admin);
        Assert.Throws<InvalidOperationException>(() => users.SetRole("root", Roles.Viewer));
        Assert.Throws<InvalidOperationException>(() => users.Delete("root"));
        users.Create("second", "password-2", Roles.Admin);
        users.SetRole("root", Roles.Viewer);
        Assert.Equal(Roles.Viewer, users.Find("root")!.Role);
    }

    /// <summary>A hasher whose work on one password blocks until released: stands in for PBKDF2's deliberate slowness.</summary>
    [Fact]
    public async Task CreateFirstAdmin_AnotherProcessCreatedItMeanwhile_ReturnsNullInsteadOfThrowing()
    {
        await using var f = new StoreFixture();
        // Node A created the admin; node B, starting at the same moment, had read "no accounts" just before.
        Users(f).CreateFirstAdmin("admin", "admin-password-1");
        var nodeB = new UserService(new NoAccountsYet(f.Users), new PasswordHasher<UserRecord>(), TimeProvider.System);

        Assert.Null(nodeB.CreateFirstAdmin("admin", "admin-password-1"));
        Assert.Single(f.Users.List());
    }

    /// <summary>A store read an instant before another process's insert: it still says no account exists.</summary>
    private sealed class NoAccountsYet(IUserStore inner) : IUserStore
    {
        public bool Any() => false;
        public IReadOnlyList<UserRecord> List() => inner.List();
        public UserRecord? Find(string id) => inner.Find(id);
        public int CountInRole(string role) => inner.CountInRole(role);
        public bool Insert(UserRecord user) => inner.Insert(user);
        public bool Update(UserRecord user) => inner.Update(user);
        public bool Delete(string id) => inner.Delete(id);
    }

    private sealed class GatedHasher : IPasswordHasher<UserRecord>
    {
        private readonly PasswordHasher<UserRecord> _inner = new();
        public const string SlowPassword = "slow-password";
        public readonly ManualResetEventSlim Release = new();
        public readonly TaskCompletionSource Entered = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string HashPassword(UserRecord user, string password) => _inner.HashPassword(user, password);

        public PasswordVerificationResult VerifyHashedPassword(UserRecord user, string hashedPassword, string providedPassword)
        {
            if (providedPassword == SlowPassword)
            {
                Entered.TrySetResult();
                Release.Wait(Waits.Timeout);
            }
            return _inner.VerifyHashedPassword(user, hashedPassword, providedPassword);
        }
    }

    [Fact]
    public async Task Verify_WhileAnotherVerifyHashes_DoesNotWaitForIt()
    {
        await using var f = new StoreFixture();
        var hasher = new GatedHasher();
        var users = new UserService(f.Users, hasher, TimeProvider.System);
        users.Create("alice", "alice-password", Roles.Viewer);
        users.Create("bob", "bob-password", Roles.Viewer);
        var slow = Task.Run(() => users.Verify("alice", GatedHasher.SlowPassword));
        await Waits.For(hasher.Entered.Task.ContinueWith(_ => true), "the first sign-in to start hashing");
        try
        {
            // Before: the hash ran inside the service's one lock, so this waited for alice's hash.
            var other = Task.Run(() => users.Verify("bob", "bob-password"));
            Assert.NotNull(await Waits.For(other, "a second sign-in while the first is still hashing", TimeSpan.FromSeconds(20)));
            Assert.False(slow.IsCompleted);
        }
        finally
        {
            hasher.Release.Set();
        }
        Assert.Null(await slow);
    }

    [Fact]
    public async Task Verify_PasswordChangedWhileHashing_Fails()
    {
        await using var f = new StoreFixture();
        var hasher = new GatedHasher();
        var users = new UserService(f.Users, hasher, TimeProvider.System);
        users.Create("alice", GatedHasher.SlowPassword, Roles.Viewer);
        var signIn = Task.Run(() => users.Verify("alice", GatedHasher.SlowPassword));
        await Waits.For(hasher.Entered.Task.ContinueWith(_ => true), "the sign-in to start hashing");
        users.SetPassword("alice", "a-new-password");
        hasher.Release.Set();
        Assert.Null(await signIn);
    }

    [Fact]
    public async Task SetPassword_ChangesTheStamp_OldSessionIsNoLongerCurrent()
    {
        await using var f = new StoreFixture();
        var users = Users(f);
        var user = users.Create("alice", "alice-password", Roles.Operator);
        var session = UserService.CreatePrincipal(user);
        Assert.True(UserService.IsCurrent(session, users.Find("alice")));
        users.SetRole("alice", Roles.Viewer);
        Assert.True(UserService.HasCurrentStamp(session, users.Find("alice")));
        Assert.False(UserService.IsCurrent(session, users.Find("alice"))); // the role differs
        users.SetPassword("alice", "another-password");
        Assert.False(UserService.HasCurrentStamp(session, users.Find("alice")));
        Assert.True(UserService.IsCurrent(UserService.CreatePrincipal(users.Find("alice")!), users.Find("alice")));
        Assert.False(UserService.IsCurrent(session, null));
    }

    [Fact]
    public async Task MessageFor_ArgumentException_HasNoParameterSuffix()
    {
        await using var f = new StoreFixture();
        var e = Assert.Throws<ArgumentException>(() => Users(f).Create("has space", "long-enough-pw", Roles.Viewer));
        Assert.Contains("(Parameter", e.Message);
        Assert.Equal("user name must be 1 to 64 letters, digits, '.', '_', '-' or '@'", UserService.MessageFor(e));
        Assert.Equal("plain", UserService.MessageFor(new InvalidOperationException("plain")));
    }

    [Fact]
    public async Task RecordSignIn_SetsLastSignIn()
    {
        await using var f = new StoreFixture();
        var users = Users(f);
        var admin = users.CreateFirstAdmin("boss", "boss-password")!;
        Assert.Null(admin.LastSignInAt);
        Assert.NotNull(users.RecordSignIn(admin).LastSignInAt);
        Assert.NotNull(users.Find("boss")!.LastSignInAt);
    }
}
