using MedZoo.Web.Persistence.Postgres;
using Npgsql;

namespace MedZoo.Tests.Web.Persistence.Postgres;

/// <summary>Which failures the PostgreSQL stores retry by themselves (no server needed: the exceptions are built here).</summary>
public sealed class PostgresDatabaseTests
{
    [Theory]
    [InlineData("57P01", true)] // admin shutdown: every pooled connection after a server restart
    [InlineData("57P02", true)] // crash shutdown
    [InlineData("57P03", true)] // the server is starting up
    [InlineData("08006", true)] // connection failure
    [InlineData("08001", true)] // cannot connect
    [InlineData("40001", true)] // serialization failure
    [InlineData("40P01", true)] // deadlock
    [InlineData("08P01", false)] // protocol violation: a bug (e.g. a parameter missing), retrying repeats it
    [InlineData("23505", false)] // unique violation: a real conflict, retrying repeats it
    [InlineData("42P01", false)] // undefined table: a bug, not a blip
    public void IsTransient_ServerErrors_OnlyConnectionAndConcurrencyFailures(string sqlState, bool transient) =>
        Assert.Equal(transient, PostgresDatabase.IsTransient(new PostgresException("message", "FATAL", "FATAL", sqlState)));

    [Fact]
    public void IsTransient_LostSocketAndOtherErrors_OnlyTheLostSocket()
    {
        Assert.True(PostgresDatabase.IsTransient(new NpgsqlException("Exception while reading from stream", new IOException("connection reset"))));
        Assert.False(PostgresDatabase.IsTransient(new InvalidOperationException("bug")));
        Assert.False(PostgresDatabase.IsTransient(new InvalidDataException("bad row")));
    }
}
