using System.Buffers.Binary;
using MedZoo.Engine.IO;
using MedZoo.Engine.IO.Streams;
using MedZoo.Tests.TestSupport;

namespace MedZoo.Tests.Engine.IO.Streams;

/// <summary>
/// Reads into buffers that disposed volumes left behind (issue 19.2): the reuse must never show a
/// previous file's voxels, a byte order swap must cover exactly the new data, and failures must hand
/// the buffer back and name the file. Test classes run one at a time (AssemblyInfo), so the process-wide
/// pool is this class's while it runs.
/// </summary>
public class VolumeBufferPoolTests
{
    // 128×128×72 int16 = 2.25 MiB, above VolumeBufferPool.PoolFrom.
    private static readonly int[] Shape = [128, 128, 72];

    private static short[] Pattern(int count, int seed)
    {
        var data = new short[count];
        for (var i = 0; i < data.Length; i++) data[i] = (short)((i * 7919 + seed * 104729) % 65521 - 32000);
        return data;
    }

    [Fact]
    public void Read_AfterDisposingALargerVolume_FillsItsBufferWithTheNewFilesVoxelsOnly()
    {
        VolumeBufferPool.Clear();
        using var tmp = TestPaths.NewTempFolder();
        var big = Pattern(128 * 128 * 80, 1);
        var small = Pattern(Shape.Aggregate(1, (a, b) => a * b), 2);
        VolumeIO.Write(Volume.FromArray<short>(big, [128, 128, 80]), tmp.File("big.nii"));
        VolumeIO.Write(Volume.FromArray<short>(small, Shape), tmp.File("small.nii"));

        var first = VolumeIO.Read(tmp.File("big.nii"));
        var buffer = first.Storage;
        first.Dispose();
        var reused = VolumeBufferPool.Reused;
        using var second = VolumeIO.Read(tmp.File("small.nii"));

        Assert.Same(buffer, second.Storage);
        Assert.Equal(reused + 1, VolumeBufferPool.Reused);
        Assert.Equal(small.Length * 2, second.RawBytes.Length);
        Assert.True(second.Raw<short>().SequenceEqual(small));
        Assert.Equal(Shape, second.Shape);
        var stats = second.ComputeStatistics();
        Assert.Equal(small.Min(), stats.Min);
        Assert.Equal(small.Max(), stats.Max);
    }

    [Fact]
    public void Read_BigEndianIntoAReusedLongerBuffer_SwapsExactlyTheData()
    {
        VolumeBufferPool.Clear();
        using var tmp = TestPaths.NewTempFolder();
        var big = Pattern(128 * 128 * 80, 3);
        var data = Pattern(Shape.Aggregate(1, (a, b) => a * b), 4);
        VolumeIO.Write(Volume.FromArray<short>(big, [128, 128, 80]), tmp.File("big.nii"));
        VolumeIO.Write(Volume.FromArray<short>(data, Shape), tmp.File("be.nii"), new VolumeWriteOptions { BigEndian = true });
        Assert.Equal(348, BinaryPrimitives.ReadInt32BigEndian(File.ReadAllBytes(tmp.File("be.nii"))));

        var first = VolumeIO.Read(tmp.File("big.nii"));
        var buffer = first.Storage!;
        first.Dispose();
        using var second = VolumeIO.Read(tmp.File("be.nii"));

        Assert.Same(buffer, second.Storage);
        Assert.True(second.Raw<short>().SequenceEqual(data));
        // Past the data the buffer still holds the earlier file's bytes, unswapped: the swap stopped at the data's end.
        Assert.Equal(big[data.Length], BitConverter.ToInt16(buffer, data.Length * 2));
    }

    [Fact]
    public void Read_OddVoxOffset_ReadsTheVoxelsFromThatByte()
    {
        using var tmp = TestPaths.NewTempFolder();
        var data = Pattern(Shape.Aggregate(1, (a, b) => a * b), 5);
        VolumeIO.Write(Volume.FromArray<short>(data, Shape), tmp.File("aligned.nii"));
        var bytes = File.ReadAllBytes(tmp.File("aligned.nii"));
        // Five junk bytes after the header's extension flag: the data now starts at byte 357, not a multiple of 16 or 2.
        var odd = bytes[..352].Concat(new byte[] { 9, 9, 9, 9, 9 }).Concat(bytes[352..]).ToArray();
        BitConverter.TryWriteBytes(odd.AsSpan(108), 357f);
        File.WriteAllBytes(tmp.File("odd.nii"), odd);

        using var volume = VolumeIO.Read(tmp.File("odd.nii"));

        Assert.True(volume.Raw<short>().SequenceEqual(data));
    }

    [Fact]
    public void Read_SameVoxelsByPositionalReadGzipStreamAndMetaImage_GivesTheSameBytes()
    {
        using var tmp = TestPaths.NewTempFolder();
        var source = Volume.FromArray<short>(Pattern(Shape.Aggregate(1, (a, b) => a * b), 6), Shape);
        VolumeIO.Write(source, tmp.File("v.nii"));
        VolumeIO.Write(source, tmp.File("v.nii.gz"));
        VolumeIO.Write(source, tmp.File("v.mha"));

        using var plain = VolumeIO.Read(tmp.File("v.nii"));
        using var gz = VolumeIO.Read(tmp.File("v.nii.gz"));
        using var mha = VolumeIO.Read(tmp.File("v.mha"));

        Assert.True(plain.RawBytes.SequenceEqual(source.RawBytes));
        Assert.True(gz.RawBytes.SequenceEqual(source.RawBytes));
        Assert.True(mha.RawBytes.SequenceEqual(source.RawBytes));
    }

    [Fact]
    public void ReadVoxels_FileTruncatedAfterItsSizeWasChecked_FailsNamingFileAndBytesAndKeepsTheBuffer()
    {
        VolumeBufferPool.Clear();
        using var tmp = TestPaths.NewTempFolder();
        var path = tmp.File("shrinks.nii");
        VolumeIO.Write(Volume.FromArray<short>(Pattern(Shape.Aggregate(1, (a, b) => a * b), 7), Shape), path);
        var dataBytes = Shape.Aggregate(2L, (a, b) => a * b);

        using var input = VolumeInput.OpenFile(path);
        input.SkipTo(352, "the voxel data");
        // Another program cuts the file while it is open (what would crash a memory-mapped read with SIGBUS).
        using (var other = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite)) other.SetLength(352 + 1000);
        var ex = Assert.Throws<VolumeFormatException>(() => input.ReadVoxels(dataBytes, "voxel data"));

        Assert.Contains("shrinks.nii", ex.Message);
        Assert.Contains($"ends after 1000 of {dataBytes} bytes", ex.Message);
        Assert.Equal(1, VolumeBufferPool.Kept.Arrays);
    }

    [Fact]
    public void Dispose_Twice_KeepsTheBufferOnceAndVoxelsThrowAfterwards()
    {
        VolumeBufferPool.Clear();
        using var tmp = TestPaths.NewTempFolder();
        VolumeIO.Write(Volume.FromArray<short>(Pattern(Shape.Aggregate(1, (a, b) => a * b), 8), Shape), tmp.File("v.nii"));
        var volume = VolumeIO.Read(tmp.File("v.nii"));

        volume.Dispose();
        volume.Dispose();

        Assert.Equal(1, VolumeBufferPool.Kept.Arrays);
        Assert.True(volume.IsDisposed);
        Assert.Equal(Shape, volume.Shape);
        var ex = Assert.Throws<ObjectDisposedException>(() => volume.RawBytes.Length);
        Assert.Contains("disposed", ex.Message);
        Assert.Throws<ObjectDisposedException>(() => volume.ToFloatArray());
    }

    [Fact]
    public void Dispose_VolumeBuiltFromCallersArray_KeepsNothing()
    {
        VolumeBufferPool.Clear();
        var raw = new byte[2 << 20];
        var volume = new Volume(raw, VoxelType.UInt8, [1024, 1024, 2], VolumeGeometry.Identity);

        volume.Dispose();

        // The caller may still hold the array: handing it to the next read would overwrite it.
        Assert.Equal(0, VolumeBufferPool.Kept.Arrays);
    }

    [Fact]
    public void Rent_ForLessThanHalfOfAKeptBuffer_AllocatesInsteadOfPinningTheLargeOne()
    {
        VolumeBufferPool.Clear();
        var large = new byte[8 << 20];
        VolumeBufferPool.Return(large);

        var (small, pooled) = VolumeBufferPool.Rent(3 << 20);
        var (half, _) = VolumeBufferPool.Rent(4 << 20);

        Assert.True(pooled);
        Assert.NotSame(large, small);
        Assert.Equal(3 << 20, small.Length);
        Assert.Same(large, half);
    }

    [Fact]
    public void Return_BeyondTheLimits_KeepsTheNewestWithinThem()
    {
        VolumeBufferPool.Clear();
        var buffers = Enumerable.Range(0, VolumeBufferPool.MaxArrays + 2).Select(_ => new byte[1 << 20]).ToArray();

        foreach (var b in buffers) VolumeBufferPool.Return(b);
        VolumeBufferPool.Return(new byte[(1 << 20) - 1]);

        Assert.Equal((VolumeBufferPool.MaxArrays, (long)VolumeBufferPool.MaxArrays << 20), VolumeBufferPool.Kept);
        Assert.Throws<InvalidOperationException>(() => VolumeBufferPool.Return(buffers[^1]));
        var (first, _) = VolumeBufferPool.Rent(1 << 20);
        Assert.Contains(first, buffers[2..]);
        VolumeBufferPool.Clear();
    }
}
