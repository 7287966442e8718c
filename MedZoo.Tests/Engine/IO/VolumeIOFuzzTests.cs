using System.Text;
using MedZoo.Engine.IO;
using MedZoo.Tests.TestSupport;

namespace MedZoo.Tests.Engine.IO;

/// <summary>
/// Randomised damage to valid files of every format (fixed seeds, so failures reproduce): whatever
/// the damage, reading either succeeds or throws <see cref="VolumeFormatException"/>; it never
/// throws anything else, never hangs and never allocates more than a few MiB for these tiny files.
/// </summary>
public class VolumeIOFuzzTests
{
    private const int Iterations = 200;
    private const long AllocationLimit = 32L << 20;

    public static TheoryData<string> Bases() => new() { "le.nii", "be.nii", "nifti2.nii", "gz.nii.gz", "analyze.hdr", "pair.hdr.gz", "local.mha", "zlib.mha", "header.mhd" };

    [Theory]
    [MemberData(nameof(Bases))]
    public void Read_RandomlyDamagedFile_ThrowsOnlyVolumeFormatException(string baseName)
    {
        using var tmp = TestPaths.NewTempFolder();
        var path = tmp.File(baseName);
        WriteBase(path);
        var original = File.ReadAllBytes(path);
        var isText = baseName.EndsWith(".mha", StringComparison.Ordinal) || baseName.EndsWith(".mhd", StringComparison.Ordinal);
        var gzipped = baseName.EndsWith(".gz", StringComparison.Ordinal);
        // Gzipped files are damaged half the time before compression, to reach the header checks.
        var plain = gzipped ? Gunzip(original) : original;
        var headerLength = Math.Min(plain.Length, isText ? HeaderLength(plain) : baseName.Contains("nifti2", StringComparison.Ordinal) ? 544 : 352);
        var failures = new List<string>();
        int succeeded = 0, rejected = 0;

        for (var iteration = 0; iteration < Iterations; iteration++)
        {
            var rng = new Random(iteration * 7919 + baseName.Length);
            byte[] damaged;
            string how;
            if (gzipped && rng.Next(2) == 0)
            {
                (damaged, how) = Damage(original, original.Length, false, rng);
                how = "compressed bytes: " + how;
            }
            else
            {
                (damaged, how) = Damage(plain, headerLength, isText, rng);
                if (gzipped) damaged = VolumeIOBadInputTests.Gzip(damaged);
            }
            File.WriteAllBytes(path, damaged);
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                VolumeIO.ReadHeader(path);
                var v = VolumeIO.Read(path);
                v.ComputeStatistics();
                succeeded++;
            }
            catch (VolumeFormatException e)
            {
                rejected++;
                if (!e.Message.StartsWith(Path.GetFileName(e.FilePath) + ": ", StringComparison.Ordinal))
                    failures.Add($"iteration {iteration} ({how}): message does not name the file: {e.Message}");
            }
            catch (Exception e)
            {
                failures.Add($"iteration {iteration} ({how}): {e.GetType().Name}: {e.Message}");
            }
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated > AllocationLimit)
                failures.Add($"iteration {iteration} ({how}): allocated {allocated} bytes");
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        // Both outcomes must occur, or the damage is not exercising the reader.
        Assert.True(succeeded > 0 && rejected > 0, $"succeeded {succeeded}, rejected {rejected}");
    }

    private static void WriteBase(string path)
    {
        var name = Path.GetFileName(path);
        var volume = TestVolumes.Random(name.StartsWith("be", StringComparison.Ordinal) ? VoxelType.Float32 : VoxelType.Int16, [5, 4, 3, 2], seed: 17, slope: 0.5, intercept: 2);
        var options = name switch
        {
            "be.nii" => new VolumeWriteOptions { BigEndian = true },
            "nifti2.nii" => new VolumeWriteOptions { NiftiVersion = 2 },
            "zlib.mha" => new VolumeWriteOptions { Compress = true },
            _ => VolumeWriteOptions.Default,
        };
        VolumeIO.Write(volume, path, options);
        if (name == "analyze.hdr")
        {
            // Turn the NIfTI pair into Analyze: no magic, SPM origin in the originator field.
            var b = File.ReadAllBytes(path);
            b.AsSpan(344, 4).Clear();
            b.AsSpan(252, 10).Clear();
            BitConverter.TryWriteBytes(b.AsSpan(253), (short)3);
            File.WriteAllBytes(path, b);
        }
    }

    private static byte[] Gunzip(byte[] data)
    {
        using var gz = new System.IO.Compression.GZipStream(new MemoryStream(data), System.IO.Compression.CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        return ms.ToArray();
    }

    private static int HeaderLength(byte[] file)
    {
        var text = Encoding.Latin1.GetString(file);
        var end = text.IndexOf("ElementDataFile", StringComparison.Ordinal);
        return text.IndexOf('\n', end) + 1;
    }

    private static readonly string[] Tokens = ["-1", "0", "1", "3", "7", "8", "1e308", "-1e308", "nan", "inf", "abc", "", "99999999999999999999", "65536 65536 65536", "2 2", "LOCAL", "LIST", "MET_DOUBLE", "MET_STRING", "True", "False", "1 0 0 0 1 0 0 0 1"];

    private static (byte[] Data, string How) Damage(byte[] original, int headerLength, bool isText, Random rng)
    {
        var b = (byte[])original.Clone();
        switch (rng.Next(isText ? 5 : 4))
        {
            case 0:
            {
                var n = rng.Next(1, 5);
                for (var i = 0; i < n; i++) b[rng.Next(headerLength)] = (byte)rng.Next(256);
                return (b, $"{n} random header bytes");
            }
            case 1:
            {
                // An aligned header field set to an extreme value of its width.
                var width = new[] { 2, 4, 8 }[rng.Next(3)];
                var at = rng.Next(headerLength / width) * width;
                var extremes = new long[] { 0, -1, 1, short.MaxValue, short.MinValue, int.MaxValue, int.MinValue, long.MaxValue, 0x7FC00000 /* NaN float */, 0x7F800000 /* +inf */, 0x4E6E6B28 /* 1e9f */ };
                var v = extremes[rng.Next(extremes.Length)];
                var bytes = BitConverter.GetBytes(v);
                if (rng.Next(2) == 0) Array.Reverse(bytes, 0, width);
                Array.Copy(bytes, 0, b, at, Math.Min(width, b.Length - at));
                return (b, $"field at {at} (width {width}) = {v}");
            }
            case 2:
            {
                var length = rng.Next(b.Length);
                return (b[..length], $"truncated to {length}");
            }
            case 3:
            {
                var at = rng.Next(b.Length);
                var n = rng.Next(1, 8);
                for (var i = 0; i < n && at + i < b.Length; i++) b[at + i] = (byte)rng.Next(256);
                return (b, $"{n} random bytes at {at}");
            }
            default:
            {
                // MetaImage: replace one value with an awkward token.
                var text = Encoding.Latin1.GetString(b, 0, headerLength);
                var lines = text.Split('\n');
                var i = rng.Next(lines.Length - 1);
                var eq = lines[i].IndexOf('=');
                var token = Tokens[rng.Next(Tokens.Length)];
                lines[i] = eq < 0 ? token : lines[i][..(eq + 1)] + " " + token;
                var header = Encoding.Latin1.GetBytes(string.Join('\n', lines));
                return ([.. header, .. b.AsSpan(headerLength)], $"line {i} value = \"{token}\"");
            }
        }
    }

    [Fact]
    public void Damage_IsDeterministic()
    {
        var original = Encoding.ASCII.GetBytes(new string('x', 400));
        var a = Damage(original, 352, false, new Random(5));
        var b = Damage(original, 352, false, new Random(5));
        Assert.Equal(a.Data, b.Data);
        Assert.Equal(a.How, b.How);
    }
}
