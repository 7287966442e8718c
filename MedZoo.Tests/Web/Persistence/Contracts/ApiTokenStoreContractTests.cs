using MedZoo.Web.Accounts;

namespace MedZoo.Tests.Web.Persistence.Contracts;

/// <summary>What every <see cref="IApiTokenStore"/> must do.</summary>
public abstract class ApiTokenStoreContractTests : StoreContractTests
{
    private static ApiToken Token(string id, string user, int minute) => new(id, user, "label " + id, "hash-" + id, "mz_" + id, "stamp", At(minute), null);

    [Fact]
    public void AddFindList_SeveralTokens_FoundByHashAndListedOldestFirstPerUser()
    {
        var t1 = Token("t1", "ana", 5);
        Engine.Tokens.Add(t1);
        Engine.Tokens.Add(Token("t2", "ana", 1));
        Engine.Tokens.Add(Token("t3", "bob", 3));

        Assert.Equal(t1, Engine.Tokens.FindByHash("hash-t1"));
        Assert.Null(Engine.Tokens.FindByHash("hash-nope"));
        Assert.True(Engine.Tokens.Exists("t3"));
        Assert.False(Engine.Tokens.Exists("t9"));
        Assert.Equal(["t2", "t1"], Engine.Tokens.ListForUser("ana").Select(t => t.Id));
        Assert.Empty(Engine.Tokens.ListForUser("carl"));
    }

    [Fact]
    public void Delete_OnlyTheOwnersToken_AndDeleteForUserCountsThem()
    {
        foreach (var (id, user) in new[] { ("t1", "ana"), ("t2", "ana"), ("t3", "bob") }) Engine.Tokens.Add(Token(id, user, 1));

        Assert.False(Engine.Tokens.Delete("bob", "t1"));
        Assert.True(Engine.Tokens.Delete("ana", "t1"));
        Assert.False(Engine.Tokens.Exists("t1"));

        Assert.Equal(1, Engine.Tokens.DeleteForUser("ana"));
        Assert.Equal(0, Engine.Tokens.DeleteForUser("ana"));
        Assert.Equal(["t3"], Engine.Tokens.ListForUser("bob").Select(t => t.Id));
    }

    [Fact]
    public void RecordUse_ExistingAndRevokedToken_StoresTheTimeOrDoesNothing()
    {
        Engine.Tokens.Add(Token("t1", "ana", 1));

        Engine.Tokens.RecordUse("t1", At(30));
        Engine.Tokens.RecordUse("gone", At(31));

        Assert.Equal(Token("t1", "ana", 1) with { LastUsedAt = At(30) }, Engine.Tokens.FindByHash("hash-t1"));
        Assert.False(Engine.Tokens.Exists("gone"));
    }
}

public sealed class ApiTokenStoreContractTests_LiteDb : ApiTokenStoreContractTests
{
    protected override Task<StoreEngine> OpenAsync() => Task.FromResult<StoreEngine>(new LiteDbStoreEngine());
}

public sealed class ApiTokenStoreContractTests_Cluster(PostgresServerFixture server) : ApiTokenStoreContractTests, IClassFixture<PostgresServerFixture>
{
    protected override async Task<StoreEngine> OpenAsync() => await server.OpenAsync();
}
