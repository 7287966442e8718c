using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Accounts;
using MedZoo.Web.Persistence;
using Microsoft.AspNetCore.Identity;

namespace MedZoo.Tests.Web.Accounts;

public sealed class ApiTokenServiceTests
{
    private static (UserService Users, ApiTokenService Tokens, LiteDbApiTokenStore Store) Services(StoreFixture f)
    {
        var users = new UserService(f.Users, new PasswordHasher<UserRecord>(), TimeProvider.System);
        var store = new LiteDbApiTokenStore(f.Database);
        return (users, new ApiTokenService(store, users, TimeProvider.System), store);
    }

    private static ClaimsPrincipal SignedIn(UserService users, string name) => UserService.CreatePrincipal(users.Find(name)!);

    [Fact]
    public async Task Create_Token_IsShownOnceAndOnlyItsSha256IsStored()
    {
        await using var f = new StoreFixture();
        var (users, tokens, _) = Services(f);
        users.Create("alice", "alice-password", Roles.Operator);

        var created = tokens.Create(SignedIn(users, "alice"), "  lab workstation ");

        Assert.StartsWith(ApiTokenService.Prefix, created.Secret);
        Assert.Equal(ApiTokenService.Prefix.Length + 43, created.Secret.Length); // 32 random bytes in base64url
        Assert.Equal("lab workstation", created.Token.Name);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(created.Secret))), created.Token.Hash);
        Assert.Equal(created.Secret[..12], created.Token.Hint);
        var stored = Assert.Single(f.Database.Db.GetCollection("apiTokens").FindAll());
        Assert.DoesNotContain(created.Secret, stored.ToString());
        Assert.Equal(created.Token.Hash, stored["Hash"].AsString);
        var listed = Assert.Single(tokens.List(SignedIn(users, "alice")));
        Assert.Equal(created.Token.Id, listed.Id);
        Assert.NotEqual(created.Secret, tokens.Create(SignedIn(users, "alice"), "second").Secret);
    }

    [Fact]
    public async Task Authenticate_ValidToken_CarriesTheUsersCurrentRole()
    {
        await using var f = new StoreFixture();
        var (users, tokens, store) = Services(f);
        users.Create("alice", "alice-password", Roles.Operator);
        var created = tokens.Create(SignedIn(users, "alice"), "script");

        var principal = tokens.Authenticate(created.Secret);

        Assert.NotNull(principal);
        Assert.Equal("alice", principal.Identity!.Name);
        Assert.Equal(ApiTokenAuthenticationHandler.SchemeName, principal.Identity.AuthenticationType);
        Assert.True(principal.CanOperate());
        Assert.Equal(created.Token.Id, principal.FindFirstValue(ApiTokenService.TokenIdClaim));
        Assert.NotNull(store.ListForUser("alice")[0].LastUsedAt);
        users.SetRole("alice", Roles.Viewer); // demoted: the same token now carries the viewer role
        var demoted = tokens.Authenticate(created.Secret)!;
        Assert.False(demoted.CanOperate());
        Assert.True(demoted.IsInRole(Roles.Viewer));
    }

    [Theory]
    [InlineData("revoked")]
    [InlineData("user deleted")]
    [InlineData("password changed")]
    [InlineData("user deleted and a new one made with the same name")]
    public async Task Authenticate_AfterTheTokenOrItsUserChanged_ReturnsNull(string change)
    {
        await using var f = new StoreFixture();
        var (users, tokens, store) = Services(f);
        users.Create("alice", "alice-password", Roles.Operator);
        var created = tokens.Create(SignedIn(users, "alice"), "script");
        Assert.NotNull(tokens.Authenticate(created.Secret));

        switch (change)
        {
            case "revoked": Assert.True(tokens.Revoke(SignedIn(users, "alice"), created.Token.Id)); break;
            case "user deleted": users.Delete("alice"); break;
            case "password changed": users.SetPassword("alice", "another-password"); break;
            default:
                users.Delete("alice");
                users.Create("Alice", "impostor-password", Roles.Admin);
                break;
        }

        Assert.Null(tokens.Authenticate(created.Secret));
        Assert.Equal(change is "revoked" or "user deleted", !store.Exists(created.Token.Id)); // a deleted user's tokens are removed at their next use
    }

    [Theory]
    [InlineData("")]
    [InlineData("mzt_")]
    [InlineData("mzt_short")]
    [InlineData("Bearer mzt_")]
    [InlineData("xyz_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("mzt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    public async Task Authenticate_MalformedToken_ReturnsNull(string secret)
    {
        await using var f = new StoreFixture();
        var (users, tokens, _) = Services(f);
        users.Create("alice", "alice-password", Roles.Operator);
        tokens.Create(SignedIn(users, "alice"), "script");

        Assert.Null(tokens.Authenticate(secret));
    }

    [Fact]
    public async Task Authenticate_OneCharacterChanged_ReturnsNull()
    {
        await using var f = new StoreFixture();
        var (users, tokens, _) = Services(f);
        users.Create("alice", "alice-password", Roles.Operator);
        var secret = tokens.Create(SignedIn(users, "alice"), "script").Secret;
        var last = secret[^1] == 'A' ? 'B' : 'A';

        Assert.Null(tokens.Authenticate(secret[..^1] + last));
        Assert.NotNull(tokens.Authenticate(secret));
    }

    [Fact]
    public async Task Revoke_AnotherUsersToken_ReturnsFalseAndKeepsIt()
    {
        await using var f = new StoreFixture();
        var (users, tokens, _) = Services(f);
        users.Create("alice", "alice-password", Roles.Operator);
        users.Create("mallory", "mallory-password", Roles.Operator);
        var alices = tokens.Create(SignedIn(users, "alice"), "script");

        Assert.False(tokens.Revoke(SignedIn(users, "mallory"), alices.Token.Id));
        Assert.Empty(tokens.List(SignedIn(users, "mallory")));
        Assert.NotNull(tokens.Authenticate(alices.Secret));
        Assert.True(tokens.TokenStillExists(tokens.Authenticate(alices.Secret)!));
        Assert.True(tokens.Revoke(SignedIn(users, "alice"), alices.Token.Id));
        Assert.False(tokens.TokenStillExists(new ClaimsPrincipal(new ClaimsIdentity([new Claim(ApiTokenService.TokenIdClaim, alices.Token.Id)]))));
    }

    [Fact]
    public async Task Create_TooLongNameOrTooManyTokens_ThrowsNamingTheLimit()
    {
        await using var f = new StoreFixture();
        var (users, tokens, _) = Services(f);
        users.Create("alice", "alice-password", Roles.Viewer);
        var alice = SignedIn(users, "alice");

        Assert.Contains($"at most {ApiTokenService.MaxNameLength}", Assert.Throws<ArgumentException>(() => tokens.Create(alice, new string('x', 65))).Message);
        for (var i = 0; i < ApiTokenService.MaxTokensPerUser; i++) tokens.Create(alice, $"t{i}");
        Assert.Contains("revoke one", Assert.Throws<ArgumentException>(() => tokens.Create(alice, "one more")).Message);
        Assert.Throws<UnauthorizedAccessException>(() => tokens.Create(new ClaimsPrincipal(new ClaimsIdentity()), "anonymous"));
    }
}
