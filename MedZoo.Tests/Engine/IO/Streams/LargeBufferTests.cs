using System.Globalization;
using System.Runtime.InteropServices;
using MedZoo.Engine.IO;
using MedZoo.Engine.IO.Streams;

namespace MedZoo.Tests.Engine.IO.Streams;

public class LargeBufferTests
{
    // The kernel's own record of the advice: the mapping that holds the array's first whole 2 MiB page
    // carries VmFlags "hg" (MADV_HUGEPAGE) in /proc/self/smaps.
    [SkippableFact]
    public void Allocate_LargeOnLinux_AdvisesTheArraysMemoryForHugePages()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "madvise is Linux's");
        var buffer = LargeBuffer.Allocate(12 << 20);
        Assert.Equal(12 << 20, buffer.Length);
        var pin = GCHandle.Alloc(buffer, GCHandleType.Pinned);
        try
        {
            var firstWholePage = ((ulong)pin.AddrOfPinnedObject() + (2ul << 20) - 1) & ~((2ul << 20) - 1);
            Assert.Contains("hg", FlagsOfMappingAt(firstWholePage).Split(' '));
        }
        finally
        {
            pin.Free();
        }
    }

    [Fact]
    public void Read_UncompressedNiftiOfManyMegabytes_ReturnsTheVoxelsWritten()
    {
        // 6 MB of int16: read into an advised buffer, every voxel as written.
        var data = new short[128 * 128 * 192];
        for (var i = 0; i < data.Length; i++) data[i] = (short)((i * 7919) % 65521 - 32000);
        var path = Path.Combine(Directory.CreateTempSubdirectory("medzoo-largebuffer-").FullName, "v.nii");
        try
        {
            VolumeIO.Write(Volume.FromArray<short>(data, [128, 128, 192]), path);
            var read = VolumeIO.Read(path);
            Assert.True(read.RawBytes.Length >= LargeBuffer.AdviseFrom);
            Assert.True(read.Raw<short>().SequenceEqual(data));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    private static string FlagsOfMappingAt(ulong address)
    {
        var inside = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            var dash = line.IndexOf('-');
            if (dash > 0 && line.Length > dash + 1 && char.IsAsciiHexDigit(line[0]) && line.IndexOf(' ') > dash)
            {
                var start = ulong.Parse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                var end = ulong.Parse(line.AsSpan(dash + 1, line.IndexOf(' ') - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                inside = address >= start && address < end;
            }
            else if (inside && line.StartsWith("VmFlags:", StringComparison.Ordinal))
            {
                return line["VmFlags:".Length..].Trim();
            }
        }
        return "";
    }
}
