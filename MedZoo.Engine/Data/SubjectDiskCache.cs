using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using MedZoo.Engine.IO;

namespace MedZoo.Engine.Data;

/// <summary>
/// The optional disk cache of preprocessed subjects (<see cref="DatasetOptions.CacheDirectory"/>):
/// one file per subject holding its normalized voxels and mapped labels, named by a hash of
/// everything that determines them (dataset, modalities, label mapping, preprocessing options and
/// each source file's path, length and modification time). A later run with the same inputs reads
/// the cache file instead of the source files; any change makes a new key, so stale entries are
/// never used. A damaged cache file is ignored (and rewritten), never trusted.
/// </summary>
public sealed class SubjectDiskCache
{
    private const string Magic = "MZSUBJ01";
    private readonly string _directory;

    /// <param name="directory">Cache folder; created when needed.</param>
    public SubjectDiskCache(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        _directory = Path.GetFullPath(directory);
    }

    /// <summary>The cache file for a subject under these options (and a replacing preprocessing, whose <see cref="ISubjectPreprocessing.CacheKey"/> is <paramref name="planKey"/>).</summary>
    public string PathFor(DatasetScan scan, SubjectSource source, DatasetOptions options, string? planKey = null)
    {
        var key = new StringBuilder();
        key.Append(CultureInfo.InvariantCulture, $"{Magic}|{scan.Dataset}|{string.Join(",", scan.Modalities)}|{scan.Mapping}|");
        key.Append(CultureInfo.InvariantCulture, $"{options.NormalizationKind.Name()}|{options.ClipLowPercentile:R}|{options.ClipHighPercentile:R}|{options.CropToNonZero}|");
        foreach (var m in source.Images) key.Append(CultureInfo.InvariantCulture, $"{m.Modality}={m.Path}#{m.Channel}|");
        key.Append(CultureInfo.InvariantCulture, $"label={source.LabelFile}|");
        if (planKey is not null) key.Append(CultureInfo.InvariantCulture, $"plan={planKey}|");
        foreach (var f in source.Files)
        {
            var info = new FileInfo(f);
            key.Append(CultureInfo.InvariantCulture, $"{f}:{(info.Exists ? info.Length : -1)}:{(info.Exists ? info.LastWriteTimeUtc.Ticks : 0)}|");
        }
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key.ToString())))[..20];
        var safe = string.Concat(source.Id.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
        return Path.Combine(_directory, $"{safe}-{hash}.mzsubject");
    }

    /// <summary>The cached subject, or null when absent or unreadable.</summary>
    public Subject? TryRead(string path, int classCount)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var stream = File.OpenRead(path);
            using var r = new BinaryReader(stream, Encoding.UTF8);
            if (r.ReadString() != Magic) return null;
            var id = r.ReadString();
            var group = r.ReadBoolean() ? r.ReadString() : null;
            var channels = r.ReadInt32();
            var modalities = Enumerable.Range(0, channels).Select(_ => r.ReadString()).ToArray();
            var size = new SpatialSize(r.ReadInt32(), r.ReadInt32(), r.ReadInt32());
            var sourceSize = new SpatialSize(r.ReadInt32(), r.ReadInt32(), r.ReadInt32());
            var offset = (r.ReadInt32(), r.ReadInt32(), r.ReadInt32());
            var affine = Enumerable.Range(0, 16).Select(_ => r.ReadDouble()).ToArray();
            var spacing = Enumerable.Range(0, 3).Select(_ => r.ReadDouble()).ToArray();
            var files = Enumerable.Range(0, r.ReadInt32()).Select(_ => r.ReadString()).ToArray();
            var storedClasses = r.ReadInt32();
            if (storedClasses != classCount || !size.IsValid) return null;
            var images = new float[channels][];
            for (var c = 0; c < channels; c++)
            {
                images[c] = new float[size.Voxels];
                stream.ReadExactly(MemoryMarshal.AsBytes(images[c].AsSpan()));
            }
            byte[]? label = null;
            if (r.ReadBoolean())
            {
                label = new byte[size.Voxels];
                stream.ReadExactly(label);
            }
            return new Subject(id, modalities, images, label, size, new VolumeGeometry(affine, spacing), files, classCount, group, sourceSize, offset);
        }
        catch (Exception e) when (e is IOException or EndOfStreamException or ArgumentException or UnauthorizedAccessException or OverflowException)
        {
            return null;
        }
    }

    /// <summary>Writes <paramref name="subject"/> to <paramref name="path"/> atomically (temporary file, then rename).</summary>
    public void Write(string path, Subject subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        Directory.CreateDirectory(_directory);
        var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            using (var stream = File.Create(temp))
            using (var w = new BinaryWriter(stream, Encoding.UTF8))
            {
                w.Write(Magic);
                w.Write(subject.Id);
                w.Write(subject.Group is not null);
                if (subject.Group is not null) w.Write(subject.Group);
                w.Write(subject.Channels);
                foreach (var m in subject.Modalities) w.Write(m);
                foreach (var v in new[] { subject.Size.D, subject.Size.H, subject.Size.W, subject.SourceSize.D, subject.SourceSize.H, subject.SourceSize.W,
                                          subject.CropOffset.D, subject.CropOffset.H, subject.CropOffset.W }) w.Write(v);
                foreach (var v in subject.Geometry.Affine) w.Write(v);
                foreach (var v in subject.Geometry.Spacing) w.Write(v);
                w.Write(subject.SourceFiles.Count);
                foreach (var f in subject.SourceFiles) w.Write(f);
                w.Write(subject.ClassCount);
                w.Flush();
                foreach (var img in subject.Images) stream.Write(MemoryMarshal.AsBytes(img.AsSpan()));
                w.Write(subject.Label is not null);
                w.Flush();
                if (subject.Label is not null) stream.Write(subject.Label);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
