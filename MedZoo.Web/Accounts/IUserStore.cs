namespace MedZoo.Web.Accounts;

/// <summary>
/// Dashboard accounts as <see cref="UserService"/> asks for them; ids are lower-cased user names.
/// The service keeps the rules (hashing, the last admin); the store only keeps the records.
/// </summary>
public interface IUserStore
{
    /// <summary>True once any account exists (the setup page closes).</summary>
    bool Any();

    /// <summary>Every account, by id.</summary>
    IReadOnlyList<UserRecord> List();

    /// <summary>The account with this id, or null.</summary>
    UserRecord? Find(string id);

    /// <summary>How many accounts have <paramref name="role"/> (the last admin stays).</summary>
    int CountInRole(string role);

    /// <summary>Adds an account; false if the id is taken.</summary>
    bool Insert(UserRecord user);

    /// <summary>Saves a changed account; false if it no longer exists.</summary>
    bool Update(UserRecord user);

    /// <summary>Deletes an account; false if it did not exist.</summary>
    bool Delete(string id);
}
