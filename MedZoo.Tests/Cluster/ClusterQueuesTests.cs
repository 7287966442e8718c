using MedZoo.Web.Cluster;
using MedZoo.Web.Runs.Placement;
using MedZoo.Web.Settings;

namespace MedZoo.Tests.Cluster;

/// <summary>Which queue a run waits in, and the device a worker gives it.</summary>
public sealed class ClusterQueuesTests
{
    [Theory]
    [InlineData("cuda", false, "gpu")]
    [InlineData("cuda:1", false, "gpu")]
    [InlineData(" CUDA:0 ", false, "gpu")]
    [InlineData("cpu", true, "cpu")]
    [InlineData("auto", false, "cpu")]
    [InlineData("auto", true, "gpu")]
    [InlineData(null, true, "gpu")]
    public void Of_Device_IsItsKindsQueue(string? device, bool gpuWorkerAlive, string queue) =>
        Assert.Equal(queue, ClusterQueues.Of(device, gpuWorkerAlive));

    [Fact]
    public void WithDevice_RunConfiguration_SetsTheWorkersDeviceAndKeepsTheRest()
    {
        var json = ClusterRunJob.WithDevice("{\"model\":\"UNET3D\",\"device\":\"cuda\",\"epochs\":3}", "cuda:1");
        Assert.Equal("{\"model\":\"UNET3D\",\"device\":\"cuda:1\",\"epochs\":3}", json);
    }

    [Fact]
    public void RequestedDevice_RunConfiguration_IsItsDeviceOption()
    {
        Assert.Equal("cpu", ClusterRuns.RequestedDevice("{\"model\":\"UNET3D\",\"device\":\"cpu\"}"));
        Assert.Null(ClusterRuns.RequestedDevice("{\"model\":\"UNET3D\"}"));
    }
}
