using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using static MedZoo.Web.Persistence.Postgres.PostgresDatabase;

namespace MedZoo.Web.Persistence.Postgres;

/// <summary>
/// The data-protection key ring in PostgreSQL (table <c>dataprotection_keys</c>), so that every web node of a cluster
/// reads the sign-in cookies, antiforgery tokens and setup links that another node issued. A key ring per node (the
/// embedded mode's <c>keys/</c> folder) would sign a user out whenever the load balancer sent them to another node.
/// Keys are never changed or deleted by ASP.NET Core, only added: a key is one row, stored once under its name.
/// </summary>
/// <remarks>
/// Why not Redis (<c>Microsoft.AspNetCore.DataProtection.StackExchangeRedis</c>): the cluster's Redis carries only the
/// live stream and keeps nothing on disk, so a Redis restart would drop every key and sign everyone out; PostgreSQL
/// already holds the durable state and is backed up with it.
/// </remarks>
public sealed class PostgresXmlRepository(PostgresDatabase database) : IXmlRepository
{
    /// <summary>Longest key element accepted from the table (a key is about 1 KB; a bigger row is not one of ours).</summary>
    public const int MaxKeyCharacters = 64 * 1024;

    /// <inheritdoc />
    public IReadOnlyCollection<XElement> GetAllElements() =>
        database.Run(c => Query(c, "SELECT name, xml FROM dataprotection_keys ORDER BY created_at, name COLLATE \"C\"",
                r => (Name: r.GetString(0), Xml: r.GetString(1))))
            .Select(row => Parse(row.Name, row.Xml))
            .ToList();

    /// <inheritdoc />
    public void StoreElement(XElement element, string friendlyName)
    {
        ArgumentNullException.ThrowIfNull(element);
        ArgumentException.ThrowIfNullOrEmpty(friendlyName);
        var xml = element.ToString(SaveOptions.DisableFormatting);
        database.Run(c => Execute(c,
            "INSERT INTO dataprotection_keys (name, xml, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
            friendlyName, xml, DateTime.UtcNow.Ticks));
    }

    private static XElement Parse(string name, string xml)
    {
        if (xml.Length > MaxKeyCharacters)
            throw new InvalidDataException($"data-protection key '{name}' in PostgreSQL is {xml.Length} characters, more than a key ever is ({MaxKeyCharacters})");
        try
        {
            return XElement.Parse(xml);
        }
        catch (System.Xml.XmlException e)
        {
            throw new InvalidDataException($"data-protection key '{name}' in PostgreSQL is not valid XML: {e.Message}", e);
        }
    }
}

/// <summary>Registers <see cref="PostgresXmlRepository"/> as the key ring.</summary>
public static class PostgresKeyRingExtensions
{
    /// <summary>
    /// Keeps the data-protection keys in the cluster's PostgreSQL database (registered by
    /// <see cref="PostgresStorageExtensions.AddMedZooPostgresStorage"/>), replacing the data folder's <c>keys/</c>.
    /// </summary>
    public static IServiceCollection AddMedZooPostgresKeyRing(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<KeyManagementOptions>().Configure<PostgresDatabase>((o, database) => o.XmlRepository = new PostgresXmlRepository(database));
        return services;
    }
}
