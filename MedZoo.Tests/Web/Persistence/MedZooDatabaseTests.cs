using MedZoo.Tests.TestSupport;
using MedZoo.Web.Persistence;
using MedZoo.Web.Runs;
using MedZoo.Web.Settings;
using Microsoft.Extensions.Options;

namespace MedZoo.Tests.Web.Persistence;

public sealed class MedZooDatabaseTests
{
    private static MedZooDatabase Open(string dir) => new(Options.Create(new DataOptions { DataDirectory = dir }));

    [Fact]
    public void Constructor_SecondInstanceOnSameFolder_ThrowsNamingTheFolder()
    {
        using var folder = TestPaths.NewTempFolder();
        using var first = Open(folder.Path);
        var e = Assert.Throws<InvalidOperationException>(() => Open(folder.Path));
        Assert.Contains(folder.Path, e.Message);
        Assert.Contains("another MedZoo server", e.Message);
    }

    [Fact]
    public void Constructor_AfterDispose_ReopensWithDocuments()
    {
        using var folder = TestPaths.NewTempFolder();
        using (var db = Open(folder.Path))
            db.Runs.Insert(new RunRecord { Id = "r1", Name = "kept", CreatedAt = DateTime.UtcNow });
        using var again = Open(folder.Path);
        Assert.Equal("kept", again.Runs.FindById("r1").Name);
        Assert.True(Directory.Exists(again.Options.JournalDirectory));
    }

    [Fact]
    public void DefaultDataDirectory_EnvironmentVariableSet_UsesIt()
    {
        var old = Environment.GetEnvironmentVariable(DataOptions.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(DataOptions.EnvironmentVariable, "/tmp/medzoo-env-test");
            Assert.Equal("/tmp/medzoo-env-test", DataOptions.DefaultDataDirectory());
            Environment.SetEnvironmentVariable(DataOptions.EnvironmentVariable, null);
            Assert.EndsWith(Path.Combine("share", "medzoo"), DataOptions.DefaultDataDirectory());
        }
        finally
        {
            Environment.SetEnvironmentVariable(DataOptions.EnvironmentVariable, old);
        }
    }
}
