namespace MedZoo.Engine.IO;

/// <summary>
/// A volume file that cannot be read: wrong magic or header size, impossible dimensions, an
/// unsupported datatype, data that ends early or disagrees with the header, corrupt compression,
/// a missing data file. The message starts with the file's name and says what was wrong and what
/// was expected ("ch2.nii.gz: NIfTI header dim[1]=-3 must be positive"), so command-line tools can
/// print it as is; <see cref="FilePath"/> holds the full path.
/// </summary>
/// <remarks>
/// Derives from <see cref="IOException"/> (<see cref="InvalidDataException"/>, the natural parent,
/// is sealed), so callers that handle failed file reads generically keep working. Readers throw
/// nothing else for bad content: a missing file is a <see cref="FileNotFoundException"/>, and any
/// other exception type from a reader means a bug or a failing disk.
/// </remarks>
public class VolumeFormatException : IOException
{
    /// <param name="filePath">The file that is wrong (the header file for a pair).</param>
    /// <param name="problem">What is wrong, without the file name (it is prepended).</param>
    /// <param name="innerException">The low-level failure (e.g. a zlib error), if any.</param>
    public VolumeFormatException(string filePath, string problem, Exception? innerException = null)
        : base($"{Path.GetFileName(filePath)}: {problem}", innerException)
    {
        FilePath = filePath;
        Problem = problem;
    }

    /// <summary>Full path of the offending file.</summary>
    public string FilePath { get; }

    /// <summary>The problem alone, without the file name.</summary>
    public string Problem { get; }
}
