namespace MedZoo.Web.Reviews;

/// <summary>The two kinds of file sets: a review's outputs (<c>reviews/&lt;id&gt;/</c>) and an upload's volumes (<c>uploads/&lt;id&gt;/</c>).</summary>
public enum ReviewFileArea
{
    /// <summary>A review's input, prediction, metrics and display arrays (see <see cref="ReviewStorage"/>).</summary>
    Reviews,
    /// <summary>An upload's volumes under their sanitised names.</summary>
    Uploads,
}

/// <summary>
/// Where the files of reviews and uploads live, as pages, endpoints, the upload service and the review runner ask for
/// them: in the data folder of the one process in embedded mode (<see cref="LocalReviewFiles"/>), in the shared
/// PostgreSQL database in cluster mode, so that a worker reads an upload made through any web node and every web node
/// serves what a worker predicted. A set of files is written whole into a local folder and then committed
/// (<see cref="Stage"/>), and read by name (<see cref="OpenRead"/>) or fetched into a local folder for readers that need
/// paths (<see cref="Fetch"/>: a header that names its data file). Ids and names are checked by
/// <see cref="ReviewStorage.CheckName"/>: a name that is not a plain file name is refused with <see cref="ArgumentException"/>.
/// </summary>
public interface IReviewFiles
{
    /// <summary>Opens file <paramref name="name"/> of <paramref name="id"/> for reading, or null when it has no such file.</summary>
    Stream? OpenRead(ReviewFileArea area, string id, string name);

    /// <summary>True when <paramref name="id"/> has a file <paramref name="name"/>.</summary>
    bool Exists(ReviewFileArea area, string id, string name);

    /// <summary>
    /// An empty local folder to write <paramref name="id"/>'s files into; <see cref="ReviewFolder.Commit"/> replaces the
    /// files <paramref name="id"/> had with them all at once, and disposing it without a commit discards them.
    /// </summary>
    ReviewFolder Stage(ReviewFileArea area, string id);

    /// <summary>
    /// A local folder holding <paramref name="id"/>'s files (only <paramref name="names"/> when given), to read by path
    /// until it is disposed. Files it lacks are simply absent from the folder.
    /// </summary>
    ReviewFolder Fetch(ReviewFileArea area, string id, IReadOnlyCollection<string>? names = null);

    /// <summary>Deletes every file of <paramref name="id"/>, if any.</summary>
    void Delete(ReviewFileArea area, string id);
}

/// <summary>A local folder of review or upload files, handed out by <see cref="IReviewFiles"/>: disposing it ends its use.</summary>
public sealed class ReviewFolder : IDisposable
{
    private readonly Action<ReviewFolder>? _commit;
    private readonly Action<ReviewFolder>? _release;
    private int _disposed;

    /// <summary>A folder whose <see cref="Commit"/> calls <paramref name="commit"/> and whose disposal calls <paramref name="release"/>.</summary>
    public ReviewFolder(string folder, Action<ReviewFolder>? commit, Action<ReviewFolder>? release)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        Folder = folder;
        _commit = commit;
        _release = release;
    }

    /// <summary>The local folder.</summary>
    public string Folder { get; }

    /// <summary>True once <see cref="Commit"/> succeeded.</summary>
    public bool Committed { get; private set; }

    /// <summary>The path of file <paramref name="name"/> in the folder; refuses a name that is not a plain file name.</summary>
    public string File(string name) => ReviewStorage.Inside(Folder, ReviewStorage.CheckName(name, nameof(name)));

    /// <summary>Stores the folder's files as the set it was staged for (see <see cref="IReviewFiles.Stage"/>).</summary>
    /// <exception cref="InvalidOperationException">The folder was fetched, not staged, or is committed already.</exception>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_commit is null) throw new InvalidOperationException("this folder was fetched for reading; only a staged folder is committed");
        if (Committed) throw new InvalidOperationException("this folder is committed already");
        _commit(this);
        Committed = true;
    }

    /// <summary>Ends the folder's use (a staged folder that was not committed is discarded).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _release?.Invoke(this);
    }
}

/// <summary>
/// Review and upload files in this process's data folder (embedded mode), at the paths of <see cref="ReviewStorage"/>.
/// A staged set is written next to its final folder and moved into place on commit (one rename on one file system);
/// a fetched set is the folder itself.
/// </summary>
public sealed class LocalReviewFiles(ReviewStorage storage) : IReviewFiles
{
    /// <inheritdoc />
    public Stream? OpenRead(ReviewFileArea area, string id, string name)
    {
        var path = Path(area, id, name);
        return System.IO.File.Exists(path) ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete) : null;
    }

    /// <inheritdoc />
    public bool Exists(ReviewFileArea area, string id, string name) => System.IO.File.Exists(Path(area, id, name));

    /// <inheritdoc />
    public ReviewFolder Stage(ReviewFileArea area, string id)
    {
        var target = Folder(area, id);
        var staging = ReviewStorage.Inside(storage.Root(area), $".staging-{id}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        return new ReviewFolder(staging, f =>
        {
            ReviewStorage.DeleteFolder(target);
            Directory.Move(f.Folder, target);
        }, f =>
        {
            if (!f.Committed) ReviewStorage.DeleteFolder(f.Folder);
        });
    }

    /// <inheritdoc />
    public ReviewFolder Fetch(ReviewFileArea area, string id, IReadOnlyCollection<string>? names = null)
    {
        foreach (var n in names ?? []) ReviewStorage.CheckName(n, nameof(names));
        return new ReviewFolder(Folder(area, id), commit: null, release: null);
    }

    /// <inheritdoc />
    public void Delete(ReviewFileArea area, string id) => ReviewStorage.DeleteFolder(Folder(area, id));

    private string Folder(ReviewFileArea area, string id) => ReviewStorage.Inside(storage.Root(area), ReviewStorage.CheckName(id, nameof(id)));

    private string Path(ReviewFileArea area, string id, string name) => ReviewStorage.Inside(Folder(area, id), ReviewStorage.CheckName(name, nameof(name)));
}
