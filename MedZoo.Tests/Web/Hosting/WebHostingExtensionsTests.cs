using MedZoo.Web.Hosting;

namespace MedZoo.Tests.Web.Hosting;

public sealed class WebHostingExtensionsTests
{
    [Theory]
    [InlineData("http://0.0.0.0:8080", null, true)]
    [InlineData("http://[::]:8080", "localhost", true)]
    [InlineData("http://+:80", "127.0.0.1;[::1]", true)]
    [InlineData("http://0.0.0.0:8080", "medzoo.lab.example", false)]
    [InlineData("http://0.0.0.0:8080", "*", false)]
    [InlineData("http://127.0.0.1:5000", null, false)]
    public void AllInterfacesHint_WildcardWithOnlyLocalHosts_TellsHowToAllowOthers(string address, string? allowedHosts, bool expected)
    {
        var hint = WebHostingExtensions.AllInterfacesHint([address], allowedHosts);
        Assert.Equal(expected, hint is not null);
        if (hint is not null) Assert.Contains("AllowedHosts", hint);
    }
}
