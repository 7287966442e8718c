using MedZoo.Tests.Web.Support;
using MedZoo.Web.Accounts;
using MedZoo.Web.Persistence;
using Microsoft.AspNetCore.Identity;

namespace MedZoo.Tests.Web.Accounts;

public sealed class UserServiceTests
{
    private static UserService Users(StoreFixture f) => new(f.Database, new PasswordHasher<UserDocument>(), TimeProvider.System);

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
}
