using MedZoo.Web.Accounts;

namespace MedZoo.Tests.Web.Persistence.Contracts;

/// <summary>What every <see cref="IUserStore"/> must do.</summary>
public abstract class UserStoreContractTests : StoreContractTests
{
    private static UserRecord User(string id, string role) => new()
    {
        Id = id, UserName = id.ToUpperInvariant(), PasswordHash = "hash-" + id, Role = role, CreatedAt = At(1), LastSignInAt = null, SecurityStamp = "s-" + id,
    };

    [Fact]
    public void Insert_NewAndTakenIds_SecondIsRefusedAndTheFirstKept()
    {
        Assert.False(Engine.Users.Any());
        var ana = User("ana", Roles.Admin);

        Assert.True(Engine.Users.Insert(ana));
        Assert.False(Engine.Users.Insert(User("ana", Roles.Viewer)));

        Assert.True(Engine.Users.Any());
        Assert.Equivalent(ana, Engine.Users.Find("ana"), strict: true);
        Assert.Null(Engine.Users.Find("bob"));
    }

    [Fact]
    public void ListAndCountInRole_SeveralAccounts_ByIdAndCountedPerRole()
    {
        foreach (var (id, role) in new[] { ("carl", Roles.Viewer), ("ana", Roles.Admin), ("bob", Roles.Admin) }) Engine.Users.Insert(User(id, role));

        Assert.Equal(["ana", "bob", "carl"], Engine.Users.List().Select(u => u.Id));
        Assert.Equal(2, Engine.Users.CountInRole(Roles.Admin));
        Assert.Equal(1, Engine.Users.CountInRole(Roles.Viewer));
    }

    [Fact]
    public void UpdateAndDelete_ExistingAndMissing_ReportWhetherTheyActed()
    {
        var ana = User("ana", Roles.Admin);
        Engine.Users.Insert(ana);
        ana.Role = Roles.Viewer;
        ana.LastSignInAt = At(9);

        Assert.True(Engine.Users.Update(ana));
        Assert.False(Engine.Users.Update(User("ghost", Roles.Admin)));
        Assert.Equal(At(9), Engine.Users.Find("ana")!.LastSignInAt);
        Assert.Equal(0, Engine.Users.CountInRole(Roles.Admin));
        Assert.Null(Engine.Users.Find("ghost"));

        Assert.True(Engine.Users.Delete("ana"));
        Assert.False(Engine.Users.Delete("ana"));
        Assert.False(Engine.Users.Any());
    }
}

public sealed class UserStoreContractTests_LiteDb : UserStoreContractTests
{
    protected override Task<StoreEngine> OpenAsync() => Task.FromResult<StoreEngine>(new LiteDbStoreEngine());
}

public sealed class UserStoreContractTests_Cluster(PostgresServerFixture server) : UserStoreContractTests, IClassFixture<PostgresServerFixture>
{
    protected override async Task<StoreEngine> OpenAsync() => await server.OpenAsync();
}
