using MedZoo.Tests.Web.Persistence.Contracts;
using MedZoo.Web.Persistence.Postgres;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace MedZoo.Tests.Web.Persistence.Postgres;

/// <summary>
/// Web nodes of one cluster share the data-protection key ring through a real PostgreSQL: what one node protects (a
/// sign-in cookie, an antiforgery token), any other reads, including nodes that started before the key existed.
/// </summary>
public sealed class PostgresKeyRingTests_Cluster(PostgresServerFixture server) : IClassFixture<PostgresServerFixture>, IAsyncLifetime
{
    private PostgresStoreEngine _engine = null!;
    private readonly List<ServiceProvider> _nodes = [];

    public async Task InitializeAsync() => _engine = await server.OpenAsync();

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes) await node.DisposeAsync();
        await _engine.DisposeAsync();
    }

    // A node as the web host builds it: data protection named MedZoo, the key ring in the cluster's database.
    private IDataProtector StartNode()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDataProtection().SetApplicationName("MedZoo");
        services.AddSingleton(new PostgresDatabase(new NpgsqlConnectionStringBuilder(server.Servers.Postgres) { SearchPath = _engine.SearchPath }.ConnectionString));
        services.AddMedZooPostgresKeyRing();
        var provider = services.BuildServiceProvider();
        _nodes.Add(provider);
        return provider.GetRequiredService<IDataProtectionProvider>().CreateProtector("cookie");
    }

    [Fact]
    public void Unprotect_OnAnotherNodeStartedLater_ReadsWhatTheFirstProtected()
    {
        var a = StartNode();
        var ticket = a.Protect("ana signed in");

        var b = StartNode();

        Assert.Equal("ana signed in", b.Unprotect(ticket));
        Assert.Equal(1L, CountKeys());
    }

    [Fact]
    public void Unprotect_NodesStartedTogetherBeforeAnyKey_ReadEachOthersTickets()
    {
        var a = StartNode();
        var b = StartNode();
        _ = a.Protect("warm-up");
        _ = b.Protect("warm-up"); // both may have created a key: each must still read the other's tickets

        Assert.Equal("from a", b.Unprotect(a.Protect("from a")));
        Assert.Equal("from b", a.Unprotect(b.Protect("from b")));
    }

    [Fact]
    public void Unprotect_AfterEveryNodeRestarted_StillReadsOldTickets()
    {
        var ticket = StartNode().Protect("remember me");
        foreach (var node in _nodes) node.Dispose();
        _nodes.Clear();

        Assert.Equal("remember me", StartNode().Unprotect(ticket));
    }

    [Fact]
    public void GetAllElements_ARowThatIsNotXml_IsRefusedNamingTheKey()
    {
        using var database = new PostgresDatabase(new NpgsqlConnectionStringBuilder(server.Servers.Postgres) { SearchPath = _engine.SearchPath }.ConnectionString);
        var repository = new PostgresXmlRepository(database);
        repository.StoreElement(new System.Xml.Linq.XElement("key", new System.Xml.Linq.XAttribute("id", "1")), "key-1");
        Assert.Single(repository.GetAllElements());
        Execute("INSERT INTO dataprotection_keys (name, xml, created_at) VALUES ('key-2', '<key', 0)");

        var e = Assert.Throws<InvalidDataException>(() => repository.GetAllElements());
        Assert.Contains("'key-2'", e.Message);
        Assert.Contains("not valid XML", e.Message);
    }

    private long CountKeys()
    {
        using var c = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server.Servers.Postgres) { SearchPath = _engine.SearchPath, Pooling = false }.ConnectionString);
        c.Open();
        using var count = new NpgsqlCommand("SELECT count(*) FROM dataprotection_keys", c);
        return (long)count.ExecuteScalar()!;
    }

    private void Execute(string sql)
    {
        using var c = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server.Servers.Postgres) { SearchPath = _engine.SearchPath, Pooling = false }.ConnectionString);
        c.Open();
        using var command = new NpgsqlCommand(sql, c);
        command.ExecuteNonQuery();
    }
}
