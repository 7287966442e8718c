using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using MedZoo.Engine.IO;
using MedZoo.Web.Reviews;

namespace MedZoo.Reliability.Fuzzing;

/// <summary>One reader's handling of a bomb.</summary>
public sealed record BombResult(string Case, string Reader, long FileBytes, long ClaimedBytes, string Outcome, TimeSpan Elapsed, long AllocatedBytes, long WorkingSetGrowthBytes);

/// <summary>
/// Real decompression bombs: a .nii.gz whose NIfTI header declares a uint8 image that the gzip stream really
/// inflates to (zeros, as concatenated gzip members: about 1 KB of file per MB of image), and one whose header
/// claims far more than the file could ever inflate to. Each goes to the upload check (what a hostile operator or
/// a stolen session reaches) and to the plain reader (what datasets and the command line use).
/// </summary>
public static class DecompressionBomb
{
    /// <summary>Writes a gzipped NIfTI-1 whose header declares <paramref name="x"/>×<paramref name="y"/>×<paramref name="z"/> uint8 voxels and whose stream inflates to <paramref name="inflatedBytes"/> of data.</summary>
    public static string Write(string folder, string name, int x, int y, int z, long inflatedBytes)
    {
        Directory.CreateDirectory(folder);
        var seed = Path.Combine(folder, "seed.nii");
        VolumeIO.Write(Volume.FromArray(new byte[8], [2, 2, 2]), seed);
        var header = File.ReadAllBytes(seed)[..352];
        File.Delete(seed);
        BinaryPrimitives.WriteInt16LittleEndian(header.AsSpan(40), 3);
        BinaryPrimitives.WriteInt16LittleEndian(header.AsSpan(42), checked((short)x));
        BinaryPrimitives.WriteInt16LittleEndian(header.AsSpan(44), checked((short)y));
        BinaryPrimitives.WriteInt16LittleEndian(header.AsSpan(46), checked((short)z));
        const int chunk = 64 * 1024 * 1024;
        var zeros = new byte[chunk];
        byte[] Member(ReadOnlySpan<byte> prefix, int length)
        {
            using var ms = new MemoryStream();
            using (var gz = new GZipStream(ms, CompressionLevel.SmallestSize, leaveOpen: true))
            {
                gz.Write(prefix);
                gz.Write(zeros, 0, length);
            }
            return ms.ToArray();
        }
        var path = Path.Combine(folder, name);
        using var file = File.Create(path);
        var first = (int)Math.Min(chunk, inflatedBytes);
        file.Write(Member(header, first));
        var left = inflatedBytes - first;
        var full = left >= chunk ? Member([], chunk) : [];
        for (; left >= chunk; left -= chunk) file.Write(full);
        if (left > 0) file.Write(Member([], (int)left));
        return path;
    }

    /// <summary>Builds the bombs in <paramref name="folder"/> and feeds each to the readers.</summary>
    /// <param name="folder">Scratch folder.</param>
    /// <param name="inflatedMiB">Size the honest bomb really inflates to.</param>
    /// <param name="includePlainRead">Also give the honest bomb to <see cref="VolumeIO.Read(string)"/>, which has no voxel limit of its own and inflates it whole.</param>
    public static IReadOnlyList<BombResult> Run(string folder, int inflatedMiB = 1024, bool includePlainRead = true)
    {
        var results = new List<BombResult>();
        var side = (int)Math.Round(Math.Cbrt(inflatedMiB * 1024.0 * 1024.0));
        var z = (int)(inflatedMiB * 1024L * 1024 / ((long)side * side));
        var honest = Write(folder, "honest-bomb.nii.gz", side, side, z, (long)side * side * z);
        var lying = Write(folder, "lying-bomb.nii.gz", 4096, 4096, 4096, 64L * 1024 * 1024);
        var upload = new ReviewOptions();
        foreach (var (label, path, claimed) in new[] { ("honest", honest, (long)side * side * z), ("lying", lying, 4096L * 4096 * 4096) })
        {
            results.Add(Measure(label, "upload check (UploadService.CheckAndRead, default limits)", path, claimed, () => UploadService.CheckAndRead(path, Path.GetFileName(path), folder, upload)));
            results.Add(Measure(label, "VolumeIO.ReadHeader", path, claimed, () => VolumeIO.ReadHeader(path)));
            if (label == "lying" || includePlainRead)
                results.Add(Measure(label, "VolumeIO.Read", path, claimed, () => VolumeIO.Read(path)));
        }
        return results;
    }

    private static BombResult Measure(string label, string reader, string path, long claimed, Func<object> read)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var before = Environment.WorkingSet;
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        string outcome;
        long peak = before;
        using var sampling = new Timer(_ => Interlocked.Exchange(ref peak, Math.Max(Interlocked.Read(ref peak), Environment.WorkingSet)), null, 0, 20);
        try
        {
            var result = read();
            outcome = result is Volume v ? $"read: {v.Size.X}×{v.Size.Y}×{v.Size.Z} voxels in memory" : "header read (no voxels)";
            GC.KeepAlive(result);
        }
        catch (Exception e) when (e is UploadRejectedException or VolumeFormatException or OutOfMemoryException)
        {
            outcome = $"refused: {e.Message}";
        }
        clock.Stop();
        peak = Math.Max(peak, Environment.WorkingSet);
        var result2 = new BombResult(label, reader, new FileInfo(path).Length, claimed, outcome, clock.Elapsed,
            GC.GetAllocatedBytesForCurrentThread() - allocated, Math.Max(0, peak - before));
        GC.Collect();
        return result2;
    }
}
