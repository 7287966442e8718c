using System.IO.Compression;
using System.Text;
using MedZoo.Engine.IO;

namespace MedZoo.Reliability.Fuzzing;

/// <summary>
/// Volume headers and data through <see cref="VolumeIO.Read(string)"/>: NIfTI-1 and NIfTI-2 (.nii, either byte order),
/// Analyze 7.5 (.hdr/.img), MetaImage (.mha, .mhd + .raw) and gzipped NIfTI (.nii.gz, mutated both as compressed
/// bytes and as a header recompressed). The contract: a <see cref="VolumeFormatException"/> naming the file, or a
/// <see cref="FileNotFoundException"/> for a data file that is not there; anything else is a crash.
/// </summary>
public sealed class VolumeTarget : FuzzTarget
{
    private readonly List<FuzzInput> _seeds = [];

    public VolumeTarget(string kind, string workDirectory) : base(workDirectory)
    {
        Kind = kind;
        var seedFolder = Path.Combine(workDirectory, "seeds");
        Directory.CreateDirectory(seedFolder);
        var geometry = new VolumeGeometry([0, 0, -1.5, 10, 1.2, 0, 0, -20, 0, 1.1, 0, 5, 0, 0, 0, 1]);
        var small = Volume.FromArray(Enumerable.Range(0, 8 * 8 * 8).Select(i => (short)(i % 300 - 20)).ToArray(), [8, 8, 8], geometry);
        var multi = Volume.FromArray(Enumerable.Range(0, 6 * 7 * 5 * 2).Select(i => i * 0.25f).ToArray(), [6, 7, 5, 2], VolumeGeometry.FromSpacing(0.9, 1, 2.5, 3, 4, 5));
        var bytes = Volume.FromArray(Enumerable.Range(0, 5 * 4 * 3).Select(i => (byte)(i % 4)).ToArray(), [5, 4, 3]);
        switch (kind)
        {
            case "nifti":
                _seeds.Add(Seed(seedFolder, "n1.nii", small, VolumeWriteOptions.Default));
                _seeds.Add(Seed(seedFolder, "n2.nii", multi, new VolumeWriteOptions { NiftiVersion = 2 }));
                _seeds.Add(Seed(seedFolder, "be.nii", bytes, new VolumeWriteOptions { BigEndian = true }));
                break;
            case "analyze":
                foreach (var (name, v) in new[] { ("a", small), ("b", multi) })
                {
                    VolumeIO.Write(v, Path.Combine(seedFolder, name + ".hdr"));
                    var header = File.ReadAllBytes(Path.Combine(seedFolder, name + ".hdr"));
                    header.AsSpan(344, 4).Clear(); // no NIfTI magic: an Analyze 7.5 header
                    _seeds.Add(new FuzzInput([new(name + ".hdr", header), new(name + ".img", File.ReadAllBytes(Path.Combine(seedFolder, name + ".img")))]));
                }
                break;
            case "metaimage":
                _seeds.Add(Seed(seedFolder, "m.mha", small, VolumeWriteOptions.Default));
                VolumeIO.Write(multi, Path.Combine(seedFolder, "d.mhd"));
                var raw = Directory.EnumerateFiles(seedFolder, "d.*").Single(f => !f.EndsWith(".mhd", StringComparison.Ordinal));
                _seeds.Add(new FuzzInput([new("d.mhd", File.ReadAllBytes(Path.Combine(seedFolder, "d.mhd"))), new(Path.GetFileName(raw), File.ReadAllBytes(raw))]));
                break;
            case "gzip":
                _seeds.Add(Seed(seedFolder, "g1.nii.gz", small, VolumeWriteOptions.Default));
                _seeds.Add(Seed(seedFolder, "g2.nii.gz", multi, new VolumeWriteOptions { NiftiVersion = 2 }));
                break;
            default:
                throw new ArgumentException($"not a volume kind: {kind}", nameof(kind));
        }
        foreach (var s in _seeds) VolumeIO.Read(s.WriteTo(Path.Combine(workDirectory, "check"))); // the seeds are valid
    }

    public override string Kind { get; }

    public override string Description => Kind switch
    {
        "nifti" => "NIfTI-1 (.nii, little- and big-endian) and NIfTI-2 files through VolumeIO.Read",
        "analyze" => "Analyze 7.5 .hdr/.img pairs through VolumeIO.Read",
        "metaimage" => "MetaImage .mha and .mhd + .raw through VolumeIO.Read",
        _ => "gzipped NIfTI-1/-2 (.nii.gz; compressed bytes mutated, or the header mutated and recompressed) through VolumeIO.Read",
    };

    public override IReadOnlyList<FuzzInput> Seeds => _seeds;

    private static FuzzInput Seed(string folder, string name, Volume v, VolumeWriteOptions options)
    {
        var path = Path.Combine(folder, name);
        VolumeIO.Write(v, path, options);
        return FuzzInput.Of(name, File.ReadAllBytes(path));
    }

    public override FuzzInput Mutate(FuzzInput seed, Mutator mutator)
    {
        var r = mutator.Random;
        switch (Kind)
        {
            case "analyze":
                return r.Next(7) == 0 ? seed.With(1, mutator.MutateBytes(seed.Files[1].Value, 0)) : seed.With(0, mutator.MutateBytes(seed.Files[0].Value, 348));
            case "metaimage":
            {
                if (seed.Files.Count > 1 && r.Next(7) == 0) return seed.With(1, mutator.MutateBytes(seed.Files[1].Value, 0));
                var bytes = seed.Files[0].Value;
                var text = Encoding.ASCII.GetString(bytes);
                var local = text.IndexOf("ElementDataFile = LOCAL", StringComparison.Ordinal);
                var headerEnd = local < 0 ? bytes.Length : text.IndexOf('\n', local) + 1;
                if (r.Next(4) == 0) return seed.With(0, mutator.MutateBytes(bytes, headerEnd));
                var header = mutator.MutateText(text[..headerEnd]);
                return seed.With(0, [.. Encoding.ASCII.GetBytes(header), .. bytes.AsSpan(headerEnd)]);
            }
            case "gzip":
            {
                var compressed = seed.Files[0].Value;
                if (r.Next(2) == 0) return seed.With(0, mutator.MutateBytes(compressed, 18));
                var plain = Inflate(compressed);
                return seed.With(0, Deflate(mutator.MutateBytes(plain, plain.Length > 540 && BitConverter.ToInt32(plain, 0) == 540 ? 540 : 348)));
            }
            default:
            {
                var bytes = seed.Files[0].Value;
                return seed.With(0, mutator.MutateBytes(bytes, BitConverter.ToInt32(bytes, 0) == 540 ? 540 : 348));
            }
        }
    }

    public override FuzzVerdict Run(FuzzInput input, string folder)
    {
        var path = input.WriteTo(folder);
        try
        {
            var v = VolumeIO.Read(path);
            GC.KeepAlive(v);
            return FuzzVerdict.Accepted;
        }
        catch (VolumeFormatException e)
        {
            return RefusedNaming(e, Path.GetFileName(e.FilePath));
        }
        catch (FileNotFoundException e)
        {
            return RefusedNaming(e, Path.GetFileName(e.FileName ?? input.MainName));
        }
    }

    /// <summary>The decompressed bytes of a gzip file.</summary>
    public static byte[] Inflate(byte[] gz)
    {
        using var input = new GZipStream(new MemoryStream(gz), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    /// <summary>Gzip of <paramref name="plain"/>.</summary>
    public static byte[] Deflate(byte[] plain)
    {
        using var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(plain);
        return output.ToArray();
    }
}
