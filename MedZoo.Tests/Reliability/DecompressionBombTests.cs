using MedZoo.Reliability.Fuzzing;
using MedZoo.Tests.TestSupport;
using Xunit.Abstractions;

namespace MedZoo.Tests.Reliability;

/// <summary>A real decompression bomb (about 1 MiB of .nii.gz that inflates to 1 GiB) and one that lies about its size.</summary>
public sealed class DecompressionBombTests(ITestOutputHelper output)
{
    [Fact]
    public void Bomb_UploadCheckAndReader_RefuseQuicklyWithBoundedMemory()
    {
        using var folder = TestPaths.NewTempFolder();

        var results = DecompressionBomb.Run(folder.Path, inflatedMiB: 1024, includePlainRead: false);

        foreach (var r in results)
            output.WriteLine($"{r.Case} | {r.Reader} | file {r.FileBytes / 1024} KiB | claims {r.ClaimedBytes >> 20} MiB | {r.Outcome} | {r.Elapsed.TotalMilliseconds:0} ms | allocated {r.AllocatedBytes >> 10} KiB");
        var honest = results.First(r => r.Case == "honest");
        Assert.InRange(honest.FileBytes, 1, 4L << 20); // a real bomb: megabytes that inflate to a gigabyte
        Assert.Equal(1024L << 20, honest.ClaimedBytes);
        foreach (var r in results.Where(r => r.Reader != "VolumeIO.ReadHeader"))
        {
            Assert.StartsWith("refused: ", r.Outcome);
            Assert.Contains("bomb.nii.gz", r.Outcome); // names the file
            Assert.True(r.Elapsed < TimeSpan.FromSeconds(5), $"{r.Case} bomb through {r.Reader} took {r.Elapsed}");
            Assert.True(r.AllocatedBytes < 64L << 20, $"{r.Case} bomb through {r.Reader} allocated {r.AllocatedBytes >> 20} MiB");
        }
    }
}
