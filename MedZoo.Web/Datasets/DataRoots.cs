using System.Security.Claims;
using System.Text.RegularExpressions;
using MedZoo.Engine;
using MedZoo.Web.Accounts;
using MedZoo.Web.Settings;
using Microsoft.Extensions.Options;

namespace MedZoo.Web.Datasets;

/// <summary>Where an allowed data root comes from.</summary>
public enum DataRootSource
{
    /// <summary>The server's data folder (always allowed; the only place runs may write).</summary>
    DataFolder,
    /// <summary><c>MedZoo:Data:Roots</c> in the configuration.</summary>
    Configuration,
    /// <summary>Added by an admin on the Datasets page (stored in the database).</summary>
    Admin,
}

/// <summary>A folder the server may read datasets from.</summary>
/// <param name="Name">What users see in messages (never the path).</param>
/// <param name="Path">The folder with symbolic links resolved (shown to operators only).</param>
/// <param name="Source">Where the root comes from; only <see cref="DataRootSource.Admin"/> roots can be removed on the page.</param>
public sealed record DataRoot(string Name, string Path, DataRootSource Source);

/// <summary>A data root an admin added (stored by <see cref="IDatasetStore"/>).</summary>
public sealed class DataRootRecord
{
    /// <summary>Root name (unique).</summary>
    public string Name { get; set; } = "";
    /// <summary>The folder, symbolic links resolved when it was added.</summary>
    public string Path { get; set; } = "";
    public string AddedBy { get; set; } = "";
    public DateTime AddedAt { get; set; }
}

/// <summary>
/// The allow-list of server folders users may point the dashboard at. Datasets (paths typed on the
/// Datasets page and in a run's configuration) must lie under a root: the data folder, the folders
/// of <c>MedZoo:Data:Roots</c>, or folders an admin added. Folders a run writes (TensorBoard logs,
/// the subject cache) must lie under the data folder. Every path is resolved the way the kernel
/// would open it — symbolic links followed component by component, <c>..</c> applied after the link
/// it follows — before containment is checked, and containment compares whole path components
/// (<c>/data-evil</c> is not under <c>/data</c>). Messages name roots, never server paths.
/// </summary>
public sealed partial class DataRoots(IDatasetStore store, IOptions<DataOptions> data, IOptions<DataAccessOptions> access, TimeProvider clock)
{
    /// <summary>Name of the data folder's root.</summary>
    public const string DataFolderRootName = "data";

    private const int MaxLinkHops = 40;

    /// <summary>True for a usable root name: letters, digits, '-' and '_', 1 to 40 characters.</summary>
    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    [GeneratedRegex("^[A-Za-z0-9_-]{1,40}$")]
    private static partial Regex NamePattern();

    /// <summary>The data folder as a root (links resolved).</summary>
    public DataRoot DataFolder => new(DataFolderRootName, RealPath(Absolute(data.Value.DataDirectory, Environment.CurrentDirectory)), DataRootSource.DataFolder);

    /// <summary>Every allowed root: the data folder, configured roots, then roots admins added.</summary>
    public IReadOnlyList<DataRoot> List()
    {
        var roots = new List<DataRoot> { DataFolder };
        foreach (var (name, path) in access.Value.Roots.OrderBy(p => p.Key, StringComparer.Ordinal))
            roots.Add(new DataRoot(name, RealPath(Absolute(path, Environment.CurrentDirectory)), DataRootSource.Configuration));
        foreach (var d in store.Roots())
            if (roots.All(r => !string.Equals(r.Name, d.Name, StringComparison.OrdinalIgnoreCase)))
                roots.Add(new DataRoot(d.Name, RealPath(d.Path), DataRootSource.Admin));
        return roots;
    }

    /// <summary>Names of the allowed roots, for messages.</summary>
    public string Names => string.Join(", ", List().Select(r => r.Name));

    /// <summary>Adds a root (admins); the folder must exist. Throws naming what is wrong.</summary>
    public DataRoot Add(ClaimsPrincipal user, string name, string path)
    {
        ArgumentNullException.ThrowIfNull(user);
        user.DemandAdmin("add data roots");
        name = (name ?? "").Trim();
        if (!IsValidName(name)) throw new ArgumentException("a root name uses letters, digits, '-' and '_' (at most 40)");
        if (List().Any(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase)))
            throw new ArgumentException($"a root called '{name}' already exists");
        if (string.IsNullOrWhiteSpace(path) || !Path.IsPathFullyQualified(path.Trim()))
            throw new ArgumentException("give the root's folder as an absolute path");
        var real = RealPath(path.Trim());
        if (!Directory.Exists(real)) throw new ArgumentException("that folder does not exist on the server");
        var doc = new DataRootRecord { Name = name, Path = real, AddedBy = user.Identity?.Name ?? "", AddedAt = clock.GetUtcNow().UtcDateTime };
        if (!store.InsertRoot(doc)) throw new ArgumentException($"a root called '{name}' already exists");
        return new DataRoot(name, real, DataRootSource.Admin);
    }

    /// <summary>Removes a root an admin added (admins); datasets under it can no longer be checked, added or trained on.</summary>
    public bool Remove(ClaimsPrincipal user, string name)
    {
        ArgumentNullException.ThrowIfNull(user);
        user.DemandAdmin("remove data roots");
        return store.DeleteRoot(name);
    }

    /// <summary>
    /// The real path of a folder to read data from, checked to lie under an allowed root. Relative
    /// paths are taken from the data folder.
    /// </summary>
    /// <param name="path">What the user typed.</param>
    /// <param name="field">The setting's name for the message ("Dataset.Path").</param>
    /// <exception cref="InvalidOptionException">Empty, or outside every root (the message names the roots, not paths).</exception>
    public string ResolveReadable(string? path, string field)
    {
        var real = Resolve(path, field);
        var roots = List();
        if (roots.Any(r => IsUnder(real, r.Path))) return real;
        throw new InvalidOptionException(field,
            $"that folder is outside the data roots this server reads from ({string.Join(", ", roots.Select(r => r.Name))}); " +
            "use a folder under one of them, or ask an admin to add a root");
    }

    /// <summary>The real path of a folder a run writes to, checked to lie under the data folder (relative paths are taken from it).</summary>
    /// <exception cref="InvalidOptionException">Empty, or outside the data folder.</exception>
    public string ResolveWritable(string? path, string field)
    {
        var real = Resolve(path, field);
        if (IsUnder(real, DataFolder.Path)) return real;
        throw new InvalidOptionException(field,
            $"runs write only inside the server's data folder ('{DataFolderRootName}' root); give a folder under it, or a relative path, which is taken from it");
    }

    /// <summary>The root a path lies under and the path relative to it ("data: datasets/brats"), for display without server paths.</summary>
    public string Describe(string path)
    {
        try
        {
            var real = RealPath(Absolute(path, data.Value.DataDirectory));
            var root = List().Where(r => IsUnder(real, r.Path)).OrderByDescending(r => r.Path.Length).FirstOrDefault();
            if (root is null) return "outside the data roots";
            var relative = Path.GetRelativePath(root.Path, real);
            return relative == "." ? root.Name : $"{root.Name}: {relative}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return "unreadable location";
        }
    }

    private string Resolve(string? path, string field)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new InvalidOptionException(field, "give a folder");
        try
        {
            return RealPath(Absolute(path.Trim(), data.Value.DataDirectory));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new InvalidOptionException(field, $"that folder cannot be resolved on the server ({e.GetType().Name})", inner: e);
        }
    }

    /// <summary>
    /// The path the kernel would open for an absolute <paramref name="path"/>: each component that
    /// is a symbolic link is replaced by its target (relative targets from the link's folder), and
    /// <c>..</c> goes up from where the links led, as <c>realpath</c> does. Components that do not
    /// exist are kept as written.
    /// </summary>
    /// <exception cref="IOException">More than 40 links were followed (a loop).</exception>
    public static string RealPath(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!Path.IsPathFullyQualified(path)) throw new ArgumentException("the path must be absolute", nameof(path));
        var current = Path.GetPathRoot(path)!;
        var pending = new Queue<string>(Split(path[current.Length..]));
        var hops = 0;
        while (pending.TryDequeue(out var part))
        {
            if (part is ".") continue;
            if (part is "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }
            var next = Path.Join(current, part);
            var target = new FileInfo(next).LinkTarget;
            if (target is null)
            {
                current = next;
                continue;
            }
            if (++hops > MaxLinkHops) throw new IOException("too many symbolic links (a loop?)");
            if (Path.IsPathFullyQualified(target))
            {
                current = Path.GetPathRoot(target)!;
                target = target[current.Length..];
            }
            pending = new Queue<string>(Split(target).Concat(pending));
        }
        return current;
    }

    /// <summary>True when <paramref name="path"/> is <paramref name="root"/> or inside it, comparing whole components (both real paths).</summary>
    public static bool IsUnder(string path, string root)
    {
        var comparison = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        var r = Path.TrimEndingDirectorySeparator(root);
        var p = Path.TrimEndingDirectorySeparator(path);
        if (string.Equals(p, r, comparison)) return true;
        var prefix = r.EndsWith(Path.DirectorySeparatorChar) ? r : r + Path.DirectorySeparatorChar;
        return p.StartsWith(prefix, comparison);
    }

    // Joined, not normalized: Path.GetFullPath would apply ".." to the text before links are followed.
    private static string Absolute(string path, string baseDirectory) =>
        Path.IsPathFullyQualified(path) ? path : Path.Join(Absolute(baseDirectory, Environment.CurrentDirectory), path);

    private static string[] Split(string path) =>
        path.Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries);
}
