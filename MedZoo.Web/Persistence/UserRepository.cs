using MedZoo.Web.Accounts;

namespace MedZoo.Web.Persistence;

/// <summary>The LiteDB implementation of <see cref="IUserStore"/> (collection <c>users</c>, keyed by the lower-cased name).</summary>
public sealed class UserRepository(MedZooDatabase database) : IUserStore
{
    /// <inheritdoc />
    public bool Any() => database.Users.Count() > 0;

    /// <inheritdoc />
    public IReadOnlyList<UserRecord> List() => database.Users.FindAll().OrderBy(u => u.Id).ToList();

    /// <inheritdoc />
    public UserRecord? Find(string id) => database.Users.FindById(id);

    /// <inheritdoc />
    public int CountInRole(string role) => database.Users.Count(u => u.Role == role);

    /// <inheritdoc />
    public bool Insert(UserRecord user)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (database.Users.FindById(user.Id) is not null) return false;
        database.Users.Insert(user);
        return true;
    }

    /// <inheritdoc />
    public bool Update(UserRecord user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return database.Users.Update(user);
    }

    /// <inheritdoc />
    public bool Delete(string id) => database.Users.Delete(id);
}
