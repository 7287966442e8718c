using System.Collections.Concurrent;
using MedZoo.Engine.IO;

namespace MedZoo.Engine.Data;

/// <summary>
/// Reads one volume file. Datasets read every file through this seam so that tests (and the
/// <c>dataset check</c> report) can count reads and prove that no file is read twice in a run.
/// </summary>
public interface IVolumeReader
{
    /// <summary>
    /// Reads the volume at <paramref name="path"/> (NIfTI, Analyze or MetaImage). The caller owns the
    /// returned volume and disposes it when done with its voxels, so its buffer goes back to the pool
    /// (<see cref="Volume.Dispose"/>); an implementation must return a new volume on every call, never
    /// one it keeps or hands to another caller.
    /// </summary>
    Volume Read(string path);
}

/// <summary>
/// Wraps a reader and counts reads per path (thread-safe), e.g. to assert that each file is read
/// exactly once per run.
/// </summary>
public sealed class CountingVolumeReader(IVolumeReader inner) : IVolumeReader
{
    private readonly ConcurrentDictionary<string, int> _reads = new(StringComparer.Ordinal);

    /// <summary>Reads per full path.</summary>
    public IReadOnlyDictionary<string, int> Reads => _reads;

    /// <summary>Total reads.</summary>
    public int TotalReads => _reads.Values.Sum();

    public Volume Read(string path)
    {
        _reads.AddOrUpdate(System.IO.Path.GetFullPath(path), 1, (_, n) => n + 1);
        return inner.Read(path);
    }
}
