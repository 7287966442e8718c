namespace MedZoo.Engine.Checkpoints;

/// <summary>
/// Keeps checkpoints as files: <c>{root}/{runId}/{kind}.ckpt</c>, or <c>{root}/{kind}.ckpt</c> when
/// <c>perRunFolders</c> is false (the CLI's <c>--output DIR</c>). A save writes a temporary file in
/// the same folder, flushes it to disk and renames it over the old one, so a crash mid-write leaves
/// the previous checkpoint intact (rename is atomic within a file system).
/// </summary>
public sealed class FileCheckpointStore : ICheckpointStore
{
    /// <summary>Extension of checkpoint files.</summary>
    public const string Extension = ".ckpt";

    private readonly bool _perRunFolders;

    /// <param name="root">Folder that holds the checkpoints; created on first save.</param>
    /// <param name="perRunFolders">One sub-folder per run id (default), or all in <paramref name="root"/>.</param>
    public FileCheckpointStore(string root, bool perRunFolders = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        Root = Path.GetFullPath(root);
        _perRunFolders = perRunFolders;
    }

    /// <summary>Absolute root folder.</summary>
    public string Root { get; }

    /// <summary>Where a checkpoint of this run and kind lives (whether or not it exists).</summary>
    public string PathOf(string runId, string kind)
    {
        CheckName(runId, nameof(runId));
        CheckName(kind, nameof(kind));
        return _perRunFolders ? Path.Combine(Root, runId, kind + Extension) : Path.Combine(Root, kind + Extension);
    }

    /// <inheritdoc />
    public string Save(string runId, string kind, int epoch, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var final = PathOf(runId, kind);
        var folder = Path.GetDirectoryName(final)!;
        Directory.CreateDirectory(folder);
        var temp = Path.Combine(folder, $".{kind}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var s = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(s);
                s.Flush(flushToDisk: true);
            }
            File.Move(temp, final, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        return final;
    }

    /// <summary>
    /// Deletes the temporary files that saves killed mid-write left behind (<c>.{kind}.{32 hex}.tmp</c>, in the
    /// root folder and, with per-run folders, in each run's folder); returns how many. Call it before a run starts
    /// writing to the folder: a temporary file is only ever renamed by the save that created it.
    /// </summary>
    public int RemoveTemporaryFiles()
    {
        if (!Directory.Exists(Root)) return 0;
        var folders = _perRunFolders ? Directory.EnumerateDirectories(Root).Prepend(Root) : [Root];
        var removed = 0;
        foreach (var folder in folders)
        foreach (var file in Directory.EnumerateFiles(folder, ".*.tmp"))
        {
            if (!IsTemporaryName(Path.GetFileName(file))) continue;
            TryDelete(file);
            if (!File.Exists(file)) removed++;
        }
        return removed;
    }

    // ".{kind}.{guid:N}.tmp", as Save names them.
    private static bool IsTemporaryName(string name)
    {
        if (!name.StartsWith('.') || !name.EndsWith(".tmp", StringComparison.Ordinal)) return false;
        var stem = name[1..^4];
        var dot = stem.LastIndexOf('.');
        return dot > 0 && stem.Length - dot - 1 == 32 && stem[(dot + 1)..].All(char.IsAsciiHexDigitLower);
    }

    /// <inheritdoc />
    public Stream? OpenRead(string runId, string kind)
    {
        var path = PathOf(runId, kind);
        return File.Exists(path) ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read) : null;
    }

    private static void CheckName(string name, string parameter)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name, parameter);
        if (name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name is "." or "..")
            throw new ArgumentException($"{parameter} '{name}' cannot be used as a file name", parameter);
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
