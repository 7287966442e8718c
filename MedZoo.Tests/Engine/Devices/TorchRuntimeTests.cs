using MedZoo.Engine.Devices;
using TorchSharp;

namespace MedZoo.Tests.Engine.Devices;

public class TorchRuntimeTests
{
    [Fact]
    public void TryLoad_OnPreparedMachine_LoadsAndComputes()
    {
        Assert.Null(TorchRuntime.TryLoad());
        using var t = torch.arange(4, dtype: torch.float32);
        Assert.Equal(6f, t.sum().item<float>());
    }

    [Fact]
    public void FileContains_FindsAsciiSymbolInBinary()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, [0, 1, .. "GLIBCXX_3.4.32"u8.ToArray(), 0, 2]);
            Assert.True(TorchRuntime.FileContains(path, "GLIBCXX_3.4.32"));
            Assert.False(TorchRuntime.FileContains(path, "GLIBCXX_3.4.33"));
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("auto")]
    [InlineData("cuda")]
    public void Resolve_WithoutCuda_FallsBackToCpuWithNotice(string requested)
    {
        var (device, info) = DeviceSelector.Resolve(requested);
        if (torch.cuda.is_available()) return;
        Assert.Equal(DeviceType.CPU, device.type);
        Assert.Equal("cpu", info.Device);
        Assert.Equal(requested == "cuda", info.Notice is not null);
    }

    [Fact]
    public void Resolve_UnknownDevice_ThrowsNamingIt()
    {
        var e = Assert.Throws<ArgumentException>(() => DeviceSelector.Resolve("tpu"));
        Assert.Contains("tpu", e.Message);
    }
}
