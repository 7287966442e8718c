namespace MedZoo.Tests.TestSupport;

/// <summary>
/// Locations shared by tests: the repository root, the Debian test data unpacked by
/// scripts/prereqs.sh (testdata/root) and nibabel's reference values (testdata/reference).
/// Tests that need real data call <see cref="RequireDebianData"/>, which skips them with a clear
/// reason when the data could not be fetched (no apt, no network) instead of failing.
/// </summary>
public static class TestPaths
{
    private static readonly Lazy<string> RootLazy = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "MedZoo.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("MedZoo.sln not found above " + AppContext.BaseDirectory);
    });

    /// <summary>The repository root (the folder holding MedZoo.sln).</summary>
    public static string RepositoryRoot => RootLazy.Value;

    /// <summary>testdata/ (ignored by git; filled by scripts/prereqs.sh).</summary>
    public static string TestData => Environment.GetEnvironmentVariable("MEDZOO_TESTDATA") is { Length: > 0 } env
        ? env
        : Path.Combine(RepositoryRoot, "testdata");

    /// <summary>Root of the unpacked Debian packages (paths below it look like usr/share/...).</summary>
    public static string DebianRoot => Path.Combine(TestData, "root");

    /// <summary>nibabel's reference values written by scripts/make_reference.py.</summary>
    public static string NibabelReference => Path.Combine(TestData, "reference", "nibabel.json");

    /// <summary>
    /// Full path of a file from an unpacked Debian package (e.g.
    /// "usr/share/mricron/templates/ch2.nii.gz"); skips the test when it is absent.
    /// </summary>
    public static string RequireDebianData(string relativePath)
    {
        var full = Path.Combine(DebianRoot, relativePath);
        Skip.IfNot(File.Exists(full) || Directory.Exists(full),
            $"test data {relativePath} is missing: run scripts/prereqs.sh (needs apt-get and Debian's mirrors)");
        return full;
    }

    /// <summary>A fresh empty temporary folder, removed when the returned handle is disposed.</summary>
    public static TempFolder NewTempFolder() => new();
}

/// <summary>A temporary folder deleted on dispose.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "medzoo-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
