using MedZoo.Tests.TestSupport;
using MedZoo.Web.Accounts;
using MedZoo.Web.Settings;
using Microsoft.Extensions.Options;

namespace MedZoo.Tests.Web.Accounts;

public sealed class SetupTokenTests
{
    [Fact]
    public void Issue_WritesAnOwnerOnlyFileWithTheToken_AndOnlyThatTokenMatches()
    {
        using var folder = TestPaths.NewTempFolder();
        var setup = new SetupToken(Options.Create(new DataOptions { DataDirectory = folder.Path }));
        Assert.False(setup.Matches("anything"));
        var token = setup.Issue();
        Assert.True(token.Length >= 32);
        Assert.Equal(token, File.ReadAllText(setup.FilePath).Trim());
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(setup.FilePath));
        Assert.True(setup.Matches(token));
        Assert.False(setup.Matches(token[..^1] + (token[^1] == 'a' ? 'b' : 'a')));
        Assert.False(setup.Matches(""));
        Assert.False(setup.Matches(null));
    }

    [Fact]
    public void Issue_Again_ReplacesTheTokenAndRevokeClosesSetup()
    {
        using var folder = TestPaths.NewTempFolder();
        var setup = new SetupToken(Options.Create(new DataOptions { DataDirectory = folder.Path }));
        var first = setup.Issue();
        var second = setup.Issue();
        Assert.NotEqual(first, second);
        Assert.False(setup.Matches(first));
        setup.Revoke();
        Assert.False(setup.Matches(second));
        Assert.Null(setup.Current);
        Assert.False(File.Exists(setup.FilePath));
    }
}
