using MedZoo.Web.Cluster.Live;
using Microsoft.Extensions.DependencyInjection;

namespace MedZoo.Tests.Web.Cluster.Live;

public sealed class ClusterLiveOptionsTests
{
    [Theory]
    [InlineData("", "MedZoo", 1024, 16, "MedZoo:Cluster:Live:Redis must name the Redis server")]
    [InlineData("r:6379", "", 1024, 16, "MedZoo:Cluster:Live:ChannelPrefix must be 1 to 100 characters")]
    [InlineData("r:6379", "MedZoo", 1023, 16, "MedZoo:Cluster:Live:MaxMessageChars must be between 1024 and 67108864, got 1023")]
    [InlineData("r:6379", "MedZoo", 1024, 15, "MedZoo:Cluster:Live:ForwarderCapacity must be between 16 and 1000000, got 15")]
    public void Validate_BadSetting_NamesIt(string redis, string prefix, int maxChars, int capacity, string expected)
    {
        var o = new ClusterLiveOptions { Redis = redis, ChannelPrefix = prefix, MaxMessageChars = maxChars, ForwarderCapacity = capacity };
        Assert.Contains(expected, Assert.Throws<InvalidOperationException>(o.Validate).Message);
    }

    [Theory]
    [InlineData(-1, 5000, "MedZoo:Cluster:Live:ProbeInterval must be between 00:00:00 (off) and 00:10:00")]
    [InlineData(2000, 50, "MedZoo:Cluster:Live:ProbeTimeout must be between 00:00:00.1 and 00:10:00")]
    public void Validate_BadProbeSetting_NamesIt(int intervalMs, int timeoutMs, string expected)
    {
        var o = new ClusterLiveOptions { Redis = "r:6379", ProbeInterval = TimeSpan.FromMilliseconds(intervalMs), ProbeTimeout = TimeSpan.FromMilliseconds(timeoutMs) };
        Assert.Contains(expected, Assert.Throws<InvalidOperationException>(o.Validate).Message);
    }

    [Fact]
    public void Validate_RedisNamed_DefaultsPass() => new ClusterLiveOptions { Redis = "redis-host:6379" }.Validate();

    [Fact]
    public void AddClusterLiveReceiving_NoRedis_FailsAtRegistration()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddClusterLiveReceiving(_ => { }));
        Assert.Contains("Redis must name the Redis server", e.Message);
    }
}
